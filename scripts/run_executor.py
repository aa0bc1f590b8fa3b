#!/usr/bin/env python3
"""The desk process: the standalone strategy executor the dashboard watches.

    python scripts/run_executor.py [--config config/desk.yaml] [--risk-config PATH]
                                   [--state data] [--log-level INFO] [--duration SECONDS]
    python scripts/run_executor.py --check [--config ...] [--risk-config ...] [--state ...]
    python scripts/run_executor.py --new-account [--config ...] [--state ...] [...]
    python scripts/run_executor.py [...] --users FILE | --operator NAME

Who commands the desk (``trading.desk.operators``): with ``--users FILE`` (the dashboard's
users file) only its operators; without it only the local operator, ``--operator NAME`` or
else the OS user (the name the dashboard records when it runs without a login). A command row
of anyone else is refused, audited and does nothing.

``--allow-live``: the desk config may name a live broker account (``broker: {paper: false,
allow_live: true}``); without this flag such a config is refused (exit 2). See docs/BROKERS.md.

``--check`` validates what the desk validates at start, in the same order and through the
same loaders, and builds nothing else: the desk config, the risk config it names (or
``--risk-config``), the state directory (created when missing and proved writable, as the
desk does), that no other desk holds it, and the CSV file when the feed replays one. It
prints one line and exits 0, or prints the desk's own error line and exits 2. The
launcher runs the same function (``trading.desk.preflight.check_desk``) in-process before it starts anything,
so both scripts name a bad file or field with the same words.

The desk refuses to start (exit 2, one line naming both files) when the state directory's
database and state file do not belong together: one missing or empty while the other holds an
account, or the database holding another account's books. ``--new-account`` starts a fresh
account on purpose: after the same checks (but that one), it moves the old database, state
file and heartbeat into ``<state>/archive-<UTC time>/`` (never deleting them), then starts.

A storage outage (disk full, I/O error) is one ERROR line on stderr, ``storage failing: ...``
(``trading.desk.outage_log``); the heartbeat says ``degraded`` while the journal holds steps
it could not write, and a SIGTERM still flushes what it can and exits 0.

Exit codes: 0 after a clean stop (SIGINT/SIGTERM) or a passed check, 2 for bad input
(flags, config, CSV, state directory, a second desk on the same state directory), 1 for
a crash.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts._arg_types import positive_seconds, state_path  # noqa: E402  (after the path set-up above)
from trading.errors import TradingError  # noqa: E402

if TYPE_CHECKING:
    from trading.desk import Desk, DeskOperators

__all__ = ["DEFAULT_CONFIG", "held_logs", "main", "parse_args"]

logger = logging.getLogger("desk")

DEFAULT_CONFIG = ROOT / "config" / "desk.yaml"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"run_executor.py: error: {message}\n")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = _Parser(description="Run the paper-trading desk (strategies, risk engine, snapshots).")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="desk config YAML")
    parser.add_argument(
        "--risk-config", type=Path, default=None, help="risk config YAML (default: from desk config)"
    )
    parser.add_argument(
        "--state", type=state_path, default=ROOT / "data", help="state directory (default: data/)"
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        type=str.upper,
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log level (default INFO)",
    )
    parser.add_argument(
        "--duration", type=positive_seconds, default=None, help="stop after this many seconds (tests, demos)"
    )
    who = parser.add_mutually_exclusive_group()
    who.add_argument(
        "--users",
        type=Path,
        default=None,
        metavar="FILE",
        help="the dashboard's users file: only its operators command this desk",
    )
    who.add_argument(
        "--operator",
        default=None,
        metavar="NAME",
        help="without --users: the local operator who commands this desk (default: the OS user)",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--check", action="store_true", help="validate the configs and the state directory, start nothing"
    )
    parser.add_argument(
        "--allow-live",
        action="store_true",
        help="accept a live (non-paper) broker account when the config also says allow_live: true",
    )
    mode.add_argument(
        "--new-account",
        action="store_true",
        help="start a fresh account: move the old books and state file into <state>/archive-<UTC time>/",
    )
    return parser.parse_args(argv)


@contextlib.contextmanager
def held_logs() -> Iterator[None]:
    """Hold back every log record emitted inside the block: on an exception they are dropped
    (the one error line is all the operator needs), otherwise written out in order."""
    root = logging.getLogger()
    handlers = list(root.handlers)
    held = _Held()
    for handler in handlers:
        root.removeHandler(handler)
    root.addHandler(held)
    try:
        yield
    finally:
        root.removeHandler(held)
        for handler in handlers:
            root.addHandler(handler)
    for record in held.records:  # reached only without an exception
        for handler in handlers:
            if record.levelno >= handler.level:
                handler.handle(record)


class _Held(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def _main(args: argparse.Namespace, desk: Desk) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await desk.run(stop=stop, duration=args.duration)
    return 0


def _archive_old_account(args: argparse.Namespace) -> None:
    """``--new-account``: the desk's checks but the pair one first (a bad config moves nothing),
    then the old account's files into the archive folder."""
    from trading.desk.books_check import archive_state_files
    from trading.desk.preflight import check_desk
    from trading.state_dir import StateDir

    check_desk(args.config, risk_config_path=args.risk_config, state_dir=args.state, books=False)
    archive_state_files(StateDir(Path(args.state).absolute()), now=datetime.now(UTC))


def _operators(args: argparse.Namespace) -> DeskOperators:
    """Who commands this desk: the users file's operators (the file checked now: a bad one is
    refused before the desk starts), else the local operator."""
    from trading.desk import DeskOperators
    from trading.users import load_users

    if args.users is None:
        return DeskOperators.local_operator(args.operator)
    load_users(args.users)
    return DeskOperators(users_file=args.users.absolute())


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from trading.desk.outage_log import StorageOutageFilter  # after the flags, like the desk

    stream = logging.StreamHandler(sys.stderr)
    stream.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    stream.addFilter(StorageOutageFilter())  # a full disk reads as one ERROR line, not thousands
    logging.basicConfig(level=args.log_level, handlers=[stream])
    try:
        with held_logs():
            if args.check:
                from trading.desk.preflight import check_desk  # after the flags, like the desk

                checked = check_desk(args.config, risk_config_path=args.risk_config, state_dir=args.state)
            else:
                from trading.desk import Desk  # after the flags: a bad flag is refused at once

                if args.new_account:
                    _archive_old_account(args)
                desk = Desk.from_files(
                    args.config,
                    state_dir=args.state,
                    risk_config_path=args.risk_config,
                    operators=_operators(args),
                    allow_live=args.allow_live,
                )
    except TradingError as exc:
        print(f"run_executor.py: error: {exc}", file=sys.stderr)
        return 2
    if args.check:
        print(f"run_executor.py: ok: {', '.join(checked)}")
        return 0
    return asyncio.run(_main(args, desk))


if __name__ == "__main__":
    sys.exit(main())
