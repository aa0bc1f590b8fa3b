"""The desk's clock as the dashboard shows it: one clock for every time on every page.

A demo desk runs on a simulated clock (10x real time), so "now" on a page is the desk's time
of the snapshot on screen (``Snapshot.taken_at``), never the dashboard's wall clock: every
countdown (lockout end, cooldown, daily reset) is measured from it. Times are shown in the
exchange time zone the snapshot names (the risk reset's, e.g. America/Chicago) with its
abbreviation, and in UTC beside or on hover. Records stamped in wall time (the commands
table) are moved onto the desk's clock with the snapshot's anchor and speed.
Pure: no ``st.*`` calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from trading.snapshot import Snapshot

__all__ = ["DeskClock", "format_duration"]


def format_duration(seconds: float) -> str:
    """3725 -> '1h 02m 05s'; 65 -> '1m 05s'; negative counts as 0."""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{minutes}m {secs:02d}s"


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@dataclass(frozen=True, slots=True)
class DeskClock:
    """``now``: the desk's time of the snapshot on screen; ``zone``: the exchange time zone;
    ``wall_anchor``/``speed``: the wall-clock moment ``now`` was taken and the desk's speed."""

    now: datetime
    zone: ZoneInfo
    wall_anchor: float
    speed: float = 1.0

    @classmethod
    def of(cls, snapshot: Snapshot | None, *, wall_now: float) -> DeskClock:
        """The clock of ``snapshot``; without one, the wall clock in UTC."""
        if snapshot is None:
            return cls(datetime.fromtimestamp(wall_now, UTC), ZoneInfo("UTC"), wall_now)
        return cls(
            snapshot.taken_at, _zone(snapshot.timezone), snapshot.heartbeat, snapshot.clock_speed or 1.0
        )

    @property
    def zone_name(self) -> str:
        return self.zone.key

    def abbreviation(self, moment: datetime | None = None) -> str:
        """The zone's name at ``moment`` (default: now): "CST", "CDT", "UTC"."""
        return (moment or self.now).astimezone(self.zone).strftime("%Z")

    def local(self, moment: datetime | None, *, seconds: bool = True) -> str:
        """``moment`` in the exchange zone with its name; the date when it is not the desk's today."""
        if moment is None:
            return ""
        here = moment.astimezone(self.zone)
        clock = "%H:%M:%S" if seconds else "%H:%M"
        if here.date() != self.now.astimezone(self.zone).date():
            clock = f"%Y-%m-%d {clock}"
        return here.strftime(f"{clock} %Z")

    def utc(self, moment: datetime | None) -> str:
        """``moment`` in UTC, date included: the text of a tooltip or a second column."""
        if moment is None:
            return ""
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")

    def from_wall(self, moment: datetime | float | None) -> datetime | None:
        """A wall-clock stamp moved onto the desk's clock (``now + (wall - anchor) x speed``)."""
        if moment is None:
            return None
        wall = moment.timestamp() if isinstance(moment, datetime) else float(moment)
        return self.now + timedelta(seconds=(wall - self.wall_anchor) * self.speed)

    def seconds_until(self, moment: datetime) -> float:
        return (moment - self.now).total_seconds()

    def countdown(self, moment: datetime | None, *, until_text: str = "until the daily reset") -> str:
        """Time left from the desk's now to ``moment``: "1m 52s"; "ended" once past."""
        if moment is None:
            return until_text
        left = self.seconds_until(moment)
        return format_duration(left) if left > 0 else "ended"
