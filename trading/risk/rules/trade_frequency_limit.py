"""trade_frequency_limit: trades per minute, per hour and per session, each with its own cooldown.

A trade is an entry order that fills (counted at its first fill); exits, stops, targets
and risk closes do not count. When a window's count reaches
its ``max_trades`` new entries pause for that window's ``cooldown_s``; the session window
pauses them until the daily reset.

Across a restart the counts come from the journal (today's entry fills, ``recount``) and the
latches from the saved state: the session latch, and when each window last fired (a window
starts afresh after its cooldown, so trades before that moment no longer count in it).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from trading.config_types import Number, Whole
from trading.model import Event, OrderFilled, OrderRole, Severity
from trading.risk.actions import Action, Alert, Cooldown, Lock, Remedy
from trading.risk.loosening import Looser
from trading.risk.rules.base import Measure, Rule, RuleConfig
from trading.risk.types import RecountFills, Violation

__all__ = ["TradeFrequencyLimit", "TradeFrequencyLimitConfig", "WindowLimit"]


class WindowLimit(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    max_trades: Annotated[Whole, Field(gt=0), Looser.HIGHER]
    cooldown_s: Annotated[Number, Field(gt=0), Looser.LOWER] = 300.0


class SessionLimit(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    max_trades: Annotated[Whole, Field(gt=0), Looser.HIGHER]


class TradeFrequencyLimitConfig(RuleConfig):
    kind: Literal["trade_frequency_limit"] = "trade_frequency_limit"
    per_minute: Annotated[WindowLimit | None, Looser.SECTION] = None
    per_hour: Annotated[WindowLimit | None, Looser.SECTION] = None
    per_session: Annotated[SessionLimit | None, Looser.SECTION] = None
    action: Annotated[Literal[Action.COOLDOWN, Action.ALERT], Looser.MILDER] = Action.COOLDOWN

    @model_validator(mode="after")
    def _one_window(self) -> TradeFrequencyLimitConfig:
        if self.per_minute is None and self.per_hour is None and self.per_session is None:
            raise ValueError("set at least one of per_minute, per_hour, per_session")
        return self


class TradeFrequencyLimit(Rule):
    kind = "trade_frequency_limit"
    config_type = TradeFrequencyLimitConfig
    config: TradeFrequencyLimitConfig

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._minute: deque[datetime] = deque()
        self._hour: deque[datetime] = deque()
        self.session_trades = 0
        self._session_fired = False
        self._fresh_since: dict[str, datetime] = {}  # window -> when it fired (and started afresh)
        self._cooldown = self.config.action is Action.COOLDOWN
        # the session window pauses entries until the reset: a lock where the windows cool down
        self._session_remedy: Remedy = Lock() if self._cooldown else Alert()

    def handlers(self) -> dict[type[Event], Callable[[Any], Violation | None]]:
        return {OrderFilled: self.on_fill}

    def on_fill(self, event: OrderFilled) -> Violation | None:
        if event.role is not OrderRole.ENTRY or event.filled_quantity - event.quantity > 1e-9:
            return None  # exits (stops, targets, risk closes) and later fills of a counted order
        ts = event.ts
        self.session_trades += 1
        cfg = self.config
        found: Violation | None = None
        if cfg.per_minute is not None:
            found = self._window(self._minute, ts, 60.0, cfg.per_minute, "minute") or found
        if cfg.per_hour is not None:
            found = self._window(self._hour, ts, 3600.0, cfg.per_hour, "hour") or found
        return self._session(ts) or found

    def _session(self, ts: datetime) -> Violation | None:
        session = self.config.per_session
        if session is None or self._session_fired or self.session_trades < session.max_trades:
            return None
        self._session_fired = True
        return self.violation(
            f"{self.session_trades} trades this session, max {session.max_trades}: "
            "no new entries until the daily reset",
            remedy=self._session_remedy,
            ts=ts,
            severity=Severity.WARNING,
            trades=self.session_trades,
            limit=session.max_trades,
            window="session",
        )

    def sweep(self, now: datetime) -> list[Violation]:
        """The session latch for a count that reached its maximum without firing (recounted
        from the journal after a restart whose last state was saved before the trade)."""
        found = self._session(now)
        return [] if found is None else [found]

    def export_state(self) -> dict[str, Any]:
        return {
            "session_trades": self.session_trades,
            "session_fired": self._session_fired,
            "minute": [t.isoformat() for t in self._minute],
            "hour": [t.isoformat() for t in self._hour],
            "fresh_since": {w: t.isoformat() for w, t in self._fresh_since.items()},
        }

    def restore_state(self, state: Mapping[str, Any], *, same_day: bool) -> None:
        """The windows are times (any day); the session's count and latch only on the same day.
        ``recount`` then replaces the counts with the journal's."""
        self._minute = deque(datetime.fromisoformat(t) for t in state.get("minute", ()))
        self._hour = deque(datetime.fromisoformat(t) for t in state.get("hour", ()))
        self._fresh_since = {
            str(w): datetime.fromisoformat(t) for w, t in dict(state.get("fresh_since", {})).items()
        }
        if same_day:
            self.session_trades = int(state.get("session_trades", 0))
            self._session_fired = bool(state.get("session_fired", False))

    def recount(self, fills: RecountFills, now: datetime) -> None:
        """Today's trades from the journal: each entry order counted at its first fill."""
        first: dict[str, datetime] = {}
        for fill in fills.today:
            if fill.role is OrderRole.ENTRY and fill.order_id not in first:
                first[fill.order_id] = fill.ts
        times = sorted(first.values())
        self.session_trades = len(times)
        self._minute = self._recent(times, now, 60.0, "minute")
        self._hour = self._recent(times, now, 3600.0, "hour")

    def _recent(self, times: list[datetime], now: datetime, span: float, window: str) -> deque[datetime]:
        horizon = now - timedelta(seconds=span)
        fresh = self._fresh_since.get(window)
        return deque(t for t in times if t > horizon and (fresh is None or t > fresh))

    def _window(
        self, times: deque[datetime], ts: datetime, span: float, limit: WindowLimit, label: str
    ) -> Violation | None:
        times.append(ts)
        horizon = ts - timedelta(seconds=span)
        while times and times[0] <= horizon:
            times.popleft()
        if len(times) < limit.max_trades:
            return None
        count = len(times)
        times.clear()  # the cooldown starts a fresh window
        self._fresh_since[label] = ts
        return self.violation(
            f"{count} trades in the last {label}, max {limit.max_trades}: cooldown {limit.cooldown_s:g}s",
            remedy=Cooldown(seconds=limit.cooldown_s) if self._cooldown else Alert(),
            ts=ts,
            severity=Severity.WARNING,
            trades=count,
            limit=limit.max_trades,
            window=label,
        )

    def measure(self) -> Measure:
        now = self.ctx.clock.now()
        cfg = self.config
        parts: list[tuple[float, float, str]] = []
        if cfg.per_minute is not None:
            parts.append((_live(self._minute, now, 60.0), cfg.per_minute.max_trades, "minute"))
        if cfg.per_hour is not None:
            parts.append((_live(self._hour, now, 3600.0), cfg.per_hour.max_trades, "hour"))
        if cfg.per_session is not None:
            parts.append((self.session_trades, cfg.per_session.max_trades, "session"))
        value, limit, _ = max(parts, key=lambda p: p[0] / p[1])
        detail = ", ".join(f"{n:g}/{m:g} per {w}" for n, m, w in parts)
        return Measure(value, limit, "trades", detail, self._session_fired)

    def reset_daily(self) -> None:
        self.session_trades = 0
        self._session_fired = False


def _live(times: deque[datetime], now: datetime, span: float) -> int:
    """Drop the times that left the window (they are in order) and count the rest."""
    horizon = now - timedelta(seconds=span)
    while times and times[0] <= horizon:
        times.popleft()
    return len(times)
