"""What the desk checks before it starts anything, as one public function.

``check_desk`` raises the ``TradingError`` the desk itself would raise at start for bad input
(desk config, risk config, state directory, its lock, its heartbeat, whether its database and
state file belong together, CSV feed, in that order),
and builds nothing. The desk's own start (``build_parts``) and the launcher's pre-flight both rely on it,
so an operator sees the same one line whichever started first.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from trading.broker import CsvReplayFeed
from trading.desk._statedir import DeskLock
from trading.desk.books_check import check_books_pair
from trading.desk.config import DeskConfig, load_desk_config
from trading.risk import load_risk_config
from trading.state_dir import Heartbeat, StateDir

__all__ = ["check_desk", "csv_feed_path", "resolve_risk_path"]


def resolve_risk_path(config: DeskConfig, config_path: Path | None) -> Path:
    """The risk file a desk config names (``risk_config``), relative to the desk config's folder."""
    base = config_path.parent if config_path is not None else Path("config")
    return (base / config.risk_config).absolute()


def csv_feed_path(config: DeskConfig, config_path: Path | None) -> Path | None:
    """The CSV a replay feed reads, relative to the desk config's folder; None for a simulated feed."""
    if config.feed.kind != "csv" or config.feed.csv is None:
        return None
    path = Path(config.feed.csv.path)
    if not path.is_absolute() and config_path is not None:
        path = config_path.parent / path
    return path


def check_desk(
    config_path: Path | None,
    *,
    risk_config_path: Path | None = None,
    state_dir: Path | None = None,
    lock: bool = True,
    books: bool = True,
) -> list[str]:
    """Raise what the desk would raise at start for bad input; start nothing.

    ``config_path`` None skips the desk config (and the CSV); ``state_dir`` None skips the
    state directory, ``lock=False`` its lock, ``books=False`` the check that its database and
    state file belong together (``check_books_pair``; it needs the desk config's account name).
    Returns what was checked, for a one-line report.
    """
    checked: list[str] = []
    config = None
    if config_path is not None:
        config = load_desk_config(config_path)
        checked.append(f"desk config {config_path}")
    risk_path = risk_config_path
    if risk_path is None and config is not None:
        risk_path = resolve_risk_path(config, Path(config_path) if config_path else None)
    if risk_path is not None:
        load_risk_config(risk_path)
        checked.append(f"risk config {risk_path}")
    if state_dir is not None:
        layout = StateDir(Path(state_dir).absolute())
        layout.prepare()
        if lock:
            desk_lock = DeskLock(layout)
            desk_lock.acquire()  # DeskAlreadyRunning when a desk holds it
            desk_lock.release()
        if config is not None and config.feed.kind == "simulated":  # the clock resumes from it
            now = datetime.now(UTC)
            Heartbeat.resume_time(layout.heartbeat, now=max(config.clock.start or now, now))
        if books and config is not None:
            check_books_pair(layout, config.account.name)
        checked.append(f"state directory {layout.root}")
    csv_path = None if config is None else csv_feed_path(config, Path(config_path) if config_path else None)
    if config is not None and csv_path is not None:
        assert config.feed.csv is not None
        events = CsvReplayFeed(csv_path, speed=config.feed.csv.speed).validate()
        checked.append(f"CSV feed {csv_path} ({events} events)")
    return checked
