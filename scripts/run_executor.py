#!/usr/bin/env python3
"""The desk process: the standalone strategy executor the dashboard watches.

    python scripts/run_executor.py [--config config/desk.yaml] [--risk-config PATH]
                                   [--state data] [--log-level INFO]

Exit codes: 0 after a clean stop (SIGINT/SIGTERM), 2 for bad input (flags, config,
CSV, state directory, a second desk on the same state directory), 1 for a crash.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from trading.desk import Desk  # noqa: E402  (after the path set-up above)
from trading.errors import TradingError  # noqa: E402

logger = logging.getLogger("desk")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"run_executor.py: error: {message}\n")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = _Parser(description="Run the paper-trading desk (strategies, risk engine, snapshots).")
    parser.add_argument("--config", type=Path, default=ROOT / "config" / "desk.yaml", help="desk config YAML")
    parser.add_argument("--risk-config", type=Path, default=None, help="risk config YAML (default: from desk config)")
    parser.add_argument("--state", type=Path, default=ROOT / "data", help="state directory (default: data/)")
    parser.add_argument(
        "--log-level", default="INFO", type=str.upper,
        choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="log level (default INFO)",
    )
    parser.add_argument("--duration", type=float, default=None, help="stop after this many seconds (tests, demos)")
    args = parser.parse_args(argv)
    if args.duration is not None and args.duration <= 0:
        parser.error(f"argument --duration: must be > 0, got {args.duration:g}")
    return args


async def _main(args: argparse.Namespace) -> int:
    desk = Desk.from_files(args.config, state_dir=args.state, risk_config_path=args.risk_config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await desk.run(stop=stop, duration=args.duration)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    try:
        return asyncio.run(_main(args))
    except TradingError as exc:
        print(f"run_executor.py: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
