"""``AuditTrail``: what the venue broker does on its own authority, recorded and published.

The guard cancelling an order placed outside the desk, each attempt of a flatten until the
venue confirms the account flat: each is one audit row (through ``AuditSink``, which
``trading.storage.AuditRepository`` provides) and one ``EnforcementExecuted`` event (the
activity log and the dashboard show it). An audit store that fails is logged; the action
itself has already happened.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Protocol

from trading.bus import EventBus
from trading.clock import Clock
from trading.model import EnforcementExecuted

__all__ = ["AuditSink", "AuditTrail"]

logger = logging.getLogger(__name__)


class AuditSink(Protocol):
    def add(
        self, *, ts: datetime, action: str, rule: str, reason: str, result: str, symbol: str | None = None
    ) -> Any: ...


class AuditTrail:
    def __init__(self, bus: EventBus, clock: Clock, sink: AuditSink | None = None) -> None:
        self._bus = bus
        self._clock = clock
        self._sink = sink
        self.records = 0

    def record(self, action: str, rule: str, reason: str, result: str, symbol: str | None = None) -> None:
        now = self._clock.now()
        self.records += 1
        logger.warning("%s by %s: %s (%s)", action, rule, result, reason)
        if self._sink is not None:
            try:
                self._sink.add(ts=now, action=action, rule=rule, reason=reason, result=result, symbol=symbol)
            except Exception:  # the audit store failing must not undo or block the action itself
                logger.exception("audit record failed for %s by %s", action, rule)
        self._bus.publish(
            EnforcementExecuted(ts=now, action=action, rule=rule, reason=reason, result=result, symbol=symbol)
        )

    def __repr__(self) -> str:
        return f"AuditTrail(records={self.records}, sink={self._sink is not None})"
