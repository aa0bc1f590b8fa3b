"""AccountConditions: what the venue and the storage say about the account, as trading states.

Beside the rules, three conditions restrict trading, each set by a pair of bus events and
cleared by the second, with one alert each way:

- **blind** (``BrokerBlind`` / ``BrokerSighted``): the venue's account cannot be observed, so
  fills and orders placed elsewhere may go unseen: REDUCING until it is observed again;
- **stale marks** (``MarksStale`` / ``MarksFresh``): held positions are measured on old prices,
  so the open-P&L limits cannot see a loss growing: REDUCING until every one is marked again;
- **storage degraded** (``StorageDegraded`` / ``StorageRecovered``): the books cannot be
  written: HALTED for entries (exits still pass) until they can.

The engine derives the state from them (``RiskEngine.refresh_state``), under a pause or an
account lockout, which say more.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from trading.model import (
    BrokerBlind,
    BrokerSighted,
    Event,
    MarksFresh,
    MarksStale,
    Severity,
    StorageDegraded,
    StorageRecovered,
)
from trading.risk.enforcement import Enforcer
from trading.risk.engine import RiskEngine

__all__ = ["AccountConditions"]

logger = logging.getLogger(__name__)


class AccountConditions:
    def __init__(self, engine: RiskEngine, enforcer: Enforcer) -> None:
        self._engine = engine
        self._enforcer = enforcer

    def handlers(self) -> dict[type[Event], Callable[[Any], None]]:
        """The bus subscriptions, one handler per event type."""
        return {
            BrokerBlind: self.on_blind,
            BrokerSighted: self.on_sighted,
            MarksStale: self.on_marks_stale,
            MarksFresh: self.on_marks_fresh,
            StorageDegraded: self.on_storage_degraded,
            StorageRecovered: self.on_storage_recovered,
        }

    def on_blind(self, event: BrokerBlind) -> None:
        """The venue's account cannot be observed: no new entries (REDUCING) until it can."""
        zone = ZoneInfo(self._engine.reset.timezone)
        since = event.since.astimezone(zone).strftime("%H:%M:%S")
        self._engine.set_blind(f"{event.broker} account not observed since {since} ({event.reason})")
        self._enforcer.alert(
            Severity.CRITICAL, f"{event.broker} account cannot be observed: {event.reason}", "broker"
        )

    def on_sighted(self, event: BrokerSighted) -> None:
        self._engine.set_blind("")
        self._enforcer.alert(
            Severity.WARNING,
            f"{event.broker} account observed again after {event.blind_seconds:.1f} s; books reconciled",
            "broker",
        )

    def on_marks_stale(self, event: MarksStale) -> None:
        """Held positions are measured on old prices: no new entries (REDUCING) until fresh."""
        held = ", ".join(event.symbols)
        self._engine.set_stale_marks(f"{held} not marked ({event.reason})")
        self._enforcer.alert(
            Severity.WARNING,
            f"{event.broker}: open P&L of {held} unmeasured ({event.reason}): no new entries until marked",
            "broker",
        )

    def on_marks_fresh(self, event: MarksFresh) -> None:
        if self._engine.stale_marks:
            self._engine.set_stale_marks("")
            self._enforcer.alert(Severity.WARNING, f"{event.broker}: held positions marked again", "broker")

    def on_storage_degraded(self, event: StorageDegraded) -> None:
        """The books cannot be written: no new entries (exits still pass) until they can. The
        journal has logged the failure (ERROR); this says what it means for the account."""
        self._engine.set_storage_problem(event.reason)
        self._enforcer.alert(
            Severity.WARNING,
            f"account HALTED while the books cannot be written (exits still allowed): {event.reason}",
            "storage",
        )

    def on_storage_recovered(self, event: StorageRecovered) -> None:
        self._engine.set_storage_problem(None)
        logger.warning(
            "storage recovered (%d held step(s) written): trading state %s",
            event.steps_written,
            self._engine.state.value,
        )
