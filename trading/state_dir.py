"""The state directory's layout and the desk's heartbeat format: one home for both.

A desk keeps everything in one directory::

    state.pkl        the latest Snapshot (through trading.memory.StateManager)
    desk.db          the journal, jobs, activity, violations, commands (SQLite)
    heartbeat.json   the desk's liveness: a ``Heartbeat``, replaced atomically (in place on a full disk)
    desk.lock        held by the running desk for its whole life
    logs/<name>.log  the launcher's child processes' output
    run/             the launcher's working directory for Streamlit

The desk, the dashboard and the launcher find these files through ``StateDir`` and
read and write the heartbeat only through ``Heartbeat``. Nothing here imports broker,
risk or desk code, so the dashboard may use it.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import math
import os
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from trading.errors import StateError

__all__ = ["MAX_RESUME_AHEAD", "Heartbeat", "StateDir"]

logger = logging.getLogger(__name__)

_FIELDS = ("pid", "ts", "started_at", "sim_time", "trading_state")
# A restarted desk resumes its simulated clock from the heartbeat's sim_time, unless that lies
# further ahead of now than a fast demo clock could have run: then it is a damaged file.
MAX_RESUME_AHEAD = timedelta(days=3660)
_MAX_BYTES = 64 * 1024  # a heartbeat is 1 KB (about 200 bytes of JSON, padded)
_MAX_REASON = 300  # characters of degraded_reason kept
_PADDED = 1024  # bytes a heartbeat file is padded to, so that it can be rewritten in place


@dataclass(frozen=True, slots=True)
class StateDir:
    """Where each of a desk's files lives, under ``root``."""

    root: Path

    @property
    def state_file(self) -> Path:
        return self.root / "state.pkl"

    @property
    def database(self) -> Path:
        return self.root / "desk.db"

    @property
    def heartbeat(self) -> Path:
        return self.root / "heartbeat.json"

    @property
    def lock_file(self) -> Path:
        return self.root / "desk.lock"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def log_file(self, name: str) -> Path:
        """``logs/<name>.log``: the output of the launcher's child called ``name``."""
        return self.logs / f"{name}.log"

    @property
    def run_dir(self) -> Path:
        return self.root / "run"

    def prepare(self) -> None:
        """Create the directory and prove it is writable; ``StateError`` naming the path otherwise."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(prefix=".probe-", dir=self.root)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise StateError(
                f"state directory {self.root} cannot be written: {exc.strerror or exc}", path=self.root
            ) from None


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """What the desk says about itself every heartbeat interval.

    ``ts`` is wall-clock epoch seconds (readers compare it with their own wall clock);
    ``sim_time`` is the desk's clock, which a simulated run moves faster than real time.
    ``degraded`` says the desk's journal holds steps it could not write (disk full, I/O
    error), ``degraded_reason`` why; the file carries both only while that is so.
    """

    pid: int
    ts: float
    started_at: datetime
    sim_time: datetime
    trading_state: str
    degraded: bool = False
    degraded_reason: str = ""

    @classmethod
    def stamped(
        cls,
        *,
        pid: int,
        started_at: datetime,
        sim_time: datetime,
        trading_state: str,
        degraded_reason: str | None = None,
    ) -> Heartbeat:
        """A heartbeat stamped with the current wall-clock time; degraded when a reason is given."""
        return cls(
            pid=pid,
            ts=time.time(),
            started_at=started_at,
            sim_time=sim_time,
            trading_state=trading_state,
            degraded=degraded_reason is not None,
            degraded_reason=(degraded_reason or "")[:_MAX_REASON],
        )

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "pid": self.pid,
            "ts": self.ts,
            "started_at": self.started_at.isoformat(),
            "sim_time": self.sim_time.isoformat(),
            "trading_state": self.trading_state,
        }
        if self.degraded:
            data["degraded"] = True
            data["degraded_reason"] = self.degraded_reason
        return data

    @classmethod
    def from_json(cls, data: object) -> Heartbeat:
        """Parse the file's JSON value; ``ValueError`` saying what is wrong otherwise."""
        if not isinstance(data, dict):
            raise ValueError(f"expected a JSON object, got {type(data).__name__}")
        missing = [name for name in _FIELDS if name not in data]
        if missing:
            raise ValueError(f"missing {', '.join(missing)}")
        pid, ts, state = data["pid"], data["ts"], data["trading_state"]
        if not isinstance(pid, int) or isinstance(pid, bool):
            raise ValueError(f"pid must be an integer, got {pid!r}")
        if pid <= 0:
            raise ValueError(f"pid must be a positive integer, got {pid!r}")
        if not isinstance(ts, int | float) or isinstance(ts, bool) or not math.isfinite(ts):
            raise ValueError(f"ts must be epoch seconds, got {ts!r}")
        if not isinstance(state, str):
            raise ValueError(f"trading_state must be text, got {state!r}")
        degraded, reason = data.get("degraded", False), data.get("degraded_reason", "")
        if not isinstance(degraded, bool):
            raise ValueError(f"degraded must be true or false, got {str(degraded)[:80]!r}")
        if not isinstance(reason, str):
            raise ValueError(f"degraded_reason must be text, got {str(reason)[:80]!r}")
        return cls(
            pid=pid,
            ts=float(ts),
            started_at=_timestamp(data, "started_at"),
            sim_time=_timestamp(data, "sim_time"),
            trading_state=state,
            degraded=degraded,
            degraded_reason=reason[:_MAX_REASON],
        )

    def write(self, path: Path) -> None:
        """Atomically replace the file at ``path`` (temp file beside it + ``os.replace``).

        The JSON is padded with spaces (which JSON allows) to ``_PADDED`` bytes. On a full disk
        (no room for the temp file) the existing file is overwritten in place instead: its
        blocks are reused, so the heartbeat stays honest (it says the desk is degraded) when
        nothing new can be written."""
        data = json.dumps(self.to_json()).encode("utf-8").ljust(_PADDED, b" ")
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_bytes(data)
            os.replace(tmp, path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT) or not _overwrite(path, data):
                raise

    @classmethod
    def read(cls, path: Path) -> Heartbeat | None:
        """The heartbeat in ``path``; None when there is none. Never raises: an unreadable or
        malformed file (the desk writes atomically, so a foreign or damaged one) is logged
        as a WARNING naming the file, and reads as None."""
        try:
            return cls._load(path)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            logger.warning("unreadable heartbeat file %s: %s", path, exc)
            return None

    @classmethod
    def _load(cls, path: Path) -> Heartbeat:
        with path.open("rb") as handle:
            data = handle.read(_MAX_BYTES + 1)
        if len(data) > _MAX_BYTES:
            raise ValueError(f"{len(data):,}+ bytes is not a heartbeat (about 200 bytes)")
        return cls.from_json(json.loads(data.decode("utf-8")))

    @classmethod
    def resume_time(cls, path: Path, *, now: datetime) -> datetime | None:
        """The simulated time a restarted desk resumes from: the heartbeat's ``sim_time``, so a
        restart never moves the clock back. None when there is no heartbeat file.

        A file that exists but cannot be read raises ``StateError`` naming it: the desk's last
        time is unknown, and starting anyway could move its clock back. A ``sim_time`` more than
        ``MAX_RESUME_AHEAD`` after ``now`` is ignored with a WARNING (no clock runs that far
        ahead; year 9999 would overflow every date computed from it)."""
        try:
            beat = cls._load(path)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise StateError(
                f"{path}: unreadable heartbeat ({str(exc)[:160]}): the desk's last simulated time is "
                "unknown and starting could move its clock back; restore the file, or delete it to "
                "start the clock at clock.start (or now)",
                path=path,
            ) from None
        if beat.sim_time - now > MAX_RESUME_AHEAD:
            logger.warning(
                "heartbeat %s: sim_time %s is more than %d days ahead of %s: ignored, the clock starts at %s",
                path,
                beat.sim_time.isoformat(),
                MAX_RESUME_AHEAD.days,
                now.isoformat(),
                now.isoformat(),
            )
            return None
        return beat.sim_time


def _overwrite(path: Path, data: bytes) -> bool:
    """Write ``data`` over the start of the existing file at ``path``, padded with spaces (JSON
    allows them) to the file's length; False when there is no file to reuse or it is too short."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        size = os.fstat(fd).st_size
        if len(data) > size:
            return False
        os.pwrite(fd, data.ljust(size, b" "), 0)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def _timestamp(data: dict[str, Any], name: str) -> datetime:
    value = data[name]
    if not isinstance(value, str):
        raise ValueError(f"{name} must be an ISO 8601 timestamp, got {str(value)[:80]!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} must be an ISO 8601 timestamp, got {value[:80]!r}") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"{name} must carry a UTC offset, got {value[:80]!r}")
    return parsed
