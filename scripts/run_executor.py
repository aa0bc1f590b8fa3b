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
import logging.handlers
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
    parser.add_argument(
        "--risk-config", type=Path, default=None, help="risk config YAML (default: from desk config)"
    )
    parser.add_argument("--state", type=Path, default=ROOT / "data", help="state directory (default: data/)")
    parser.add_argument(
        "--log-level",
        default="INFO",
        type=str.upper,
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log level (default INFO)",
    )
    parser.add_argument(
        "--duration", type=float, default=None, help="stop after this many seconds (tests, demos)"
    )
    args = parser.parse_args(argv)
    if args.duration is not None and args.duration <= 0:
        parser.error(f"argument --duration: must be > 0, got {args.duration:g}")
    return args


def _open_desk(args: argparse.Namespace, stream: logging.Handler) -> Desk:
    """Build the desk with its start-up log held back: on bad input the one error line is
    all the operator sees; on success the held lines are written out in order."""
    held = logging.handlers.MemoryHandler(capacity=100_000, flushLevel=logging.CRITICAL + 1, target=stream)
    root = logging.getLogger()
    root.removeHandler(stream)
    root.addHandler(held)
    try:
        desk = Desk.from_files(args.config, state_dir=args.state, risk_config_path=args.risk_config)
    except BaseException:
        held.setTarget(None)  # type: ignore[arg-type]  (drop the held lines; the error says what matters)
        raise
    finally:
        root.removeHandler(held)
        root.addHandler(stream)
        held.close()  # flushes to the stream when the target is still set
    return desk


async def _main(args: argparse.Namespace, desk: Desk) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await desk.run(stop=stop, duration=args.duration)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stream = logging.StreamHandler(sys.stderr)
    stream.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=args.log_level, handlers=[stream])
    try:
        desk = _open_desk(args, stream)
    except TradingError as exc:
        print(f"run_executor.py: error: {exc}", file=sys.stderr)
        return 2
    return asyncio.run(_main(args, desk))


if __name__ == "__main__":
    sys.exit(main())
