"""session_hours: no new entries outside the configured hours, weekdays and holidays;
optionally flatten when the session ends."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import Field

from trading.config_types import Flag, IsoDate, LocalTime, TimeZoneName, parse_local_time
from trading.model import Event, MarketDataUpdated, Order, Severity
from trading.risk.actions import Action, Flatten
from trading.risk.loosening import Looser
from trading.risk.rules.base import Measure, Rule, RuleConfig
from trading.risk.types import Violation

__all__ = ["LocalTime", "SessionHours", "SessionHoursConfig", "parse_local_time"]

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class SessionHoursConfig(RuleConfig):
    kind: Literal["session_hours"] = "session_hours"
    timezone: Annotated[TimeZoneName, Looser.ANY] = "America/Chicago"
    open: Annotated[LocalTime, Looser.WINDOW_OPEN] = time(8, 30)
    close: Annotated[LocalTime, Looser.WINDOW_CLOSE] = time(15, 0)
    days: Annotated[tuple[Weekday, ...], Field(min_length=1), Looser.MORE] = (
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
    )
    holidays: Annotated[tuple[IsoDate, ...], Looser.FEWER] = ()
    flatten_at_close: Annotated[Flag, Looser.OFF] = False
    action: Annotated[Literal[Action.DENY, Action.ALERT], Looser.MILDER] = Action.DENY


class SessionHours(Rule):
    """The session may wrap midnight (open 17:00, close 16:00): it then belongs to the day it opened.

    A session runs from its open (included) to its close (excluded): an order at 08:30:00 passes,
    one at 15:00:00 is refused. With ``flatten_at_close`` the close is flattened once; a close
    that passed while the desk was down (and was not flattened) is flattened at the restart,
    unless a new session has begun since."""

    kind = "session_hours"
    config_type = SessionHoursConfig
    config: SessionHoursConfig
    checks_orders = True

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._tz = ZoneInfo(self.config.timezone)
        self._days = {_WEEKDAYS.index(d) for d in self.config.days}
        self._holidays = set(self.config.holidays)
        self._boundary = datetime.min.replace(tzinfo=UTC)
        self._inside = False
        self._window_end: datetime | None = None
        self._refresh(self.ctx.clock.now())

    def handlers(self) -> dict[type[Event], Callable[[Any], Violation | None]]:
        if not self.config.flatten_at_close:
            return {}
        return {MarketDataUpdated: self.on_market}

    def _windows(self, now: datetime) -> list[tuple[datetime, datetime]]:
        cfg = self.config
        today = now.astimezone(self._tz).date()
        out: list[tuple[datetime, datetime]] = []
        for offset in range(-1, 9):
            day = today + timedelta(days=offset)
            if day.weekday() not in self._days or day in self._holidays:
                continue
            start = datetime.combine(day, cfg.open, tzinfo=self._tz)
            end_day = day if cfg.close > cfg.open else day + timedelta(days=1)
            end = datetime.combine(end_day, cfg.close, tzinfo=self._tz)
            out.append((start.astimezone(UTC), end.astimezone(UTC)))
        return out

    def _refresh(self, now: datetime) -> None:
        for start, end in self._windows(now):
            if start <= now < end:
                self._inside, self._boundary, self._window_end = True, end, end
                return
            if now < start:
                self._inside, self._boundary = False, start
                return
        self._inside, self._boundary = False, now + timedelta(days=7)

    def in_session(self, now: datetime) -> bool:
        if now >= self._boundary:
            self._refresh(now)
        return self._inside

    def check(self, order: Order, reducing: bool, now: datetime) -> str | None:
        if reducing or self.in_session(now):
            return None
        cfg = self.config
        return (
            f"outside session hours {cfg.open.strftime('%H:%M')}-{cfg.close.strftime('%H:%M')} "
            f"{cfg.timezone} ({','.join(cfg.days)}, holidays excluded)"
        )

    def on_market(self, event: MarketDataUpdated) -> Violation | None:
        if event.ts < self._boundary:
            return None
        found = self.sweep(event.ts)
        return found[0] if found else None

    def sweep(self, now: datetime) -> list[Violation]:
        was_inside, ended = self._inside, self._window_end
        inside = self.in_session(now)
        if not self.config.flatten_at_close or inside or not was_inside or ended is None:
            return []
        self._window_end = None
        if not self.pnl.open_positions():
            return []
        return [
            self.violation(
                f"session ended at {ended.astimezone(self._tz).strftime('%H:%M')} {self.config.timezone}: "
                "flattening open positions",
                remedy=Flatten(),  # flatten_at_close: whatever the rule's action for orders
                ts=now,
                severity=Severity.WARNING,
                open_positions=len(self.pnl.open_positions()),
            )
        ]

    def export_state(self) -> dict[str, Any]:
        end = self._window_end
        return {"window_end": None if end is None else end.isoformat()}

    def restore_state(self, state: Mapping[str, Any], *, same_day: bool) -> None:
        saved = state.get("window_end")
        if saved is None or not self.config.flatten_at_close:
            return
        end = datetime.fromisoformat(saved)
        now = self.ctx.clock.now()
        if end <= now and not self.in_session(now):
            # the session we were in closed while the desk was down: the next sweep flattens
            self._inside, self._boundary, self._window_end = True, end, end

    def measure(self) -> Measure:
        now = self.ctx.clock.now()
        inside = self.in_session(now)
        label = "closes" if inside else "opens"
        detail = (
            f"{'in' if inside else 'out of'} session; {label} {self._boundary.astimezone(self._tz):%a %H:%M}"
        )
        return Measure(0.0, 0.0, "", detail, False)
