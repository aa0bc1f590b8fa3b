"""``Sight``: whether the desk can observe the venue's account, and for how long it could not.

The order stream is the desk's eye on the account: while it listens, every fill, cancel and
order placed elsewhere arrives within milliseconds. When it drops (or never came up), the
outage is timed with a monotonic clock; once it has lasted ``blind_after`` seconds the desk
is *blind*: ``BrokerBlind`` is published once (the risk manager holds the account REDUCING,
an alert fires, the dashboard says so). When the stream listens again the books are
resynchronised with the venue first, and only then ``BrokerSighted`` is published.
Polling goes on while blind and still enforces; it is the catch-up, not the eye.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from trading.bus import EventBus
from trading.clock import Clock
from trading.model import BrokerBlind, BrokerSighted

__all__ = ["Sight", "SightStatus"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SightStatus:
    connected: bool  # the stream listens now
    blind: bool  # BrokerBlind published, BrokerSighted not yet
    since: datetime | None  # when the stream last went down (None: up)
    reason: str
    outages: int
    reconnects: int


class Sight:
    def __init__(
        self,
        bus: EventBus,
        clock: Clock,
        *,
        broker: str,
        blind_after: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._bus = bus
        self._clock = clock
        self._broker = broker
        self.blind_after = blind_after
        self._monotonic = monotonic
        self.connected = False
        self.blind = False
        self._down_at: float | None = monotonic()  # down until the stream first listens
        self._down_since: datetime | None = clock.now()
        self.reason = "the stream has not connected yet"
        self.outages = 0
        self.reconnects = 0

    def stream_up(self) -> None:
        """The stream listens again (the caller resynchronises, then calls ``sighted``)."""
        if not self.connected:
            self.connected = True
            self.reconnects += 1
            logger.info("%s stream listening (connection %d)", self._broker, self.reconnects)

    def stream_down(self, reason: str) -> None:
        if self.connected or self._down_at is None:
            self.connected = False
            self._down_at = self._monotonic()
            self._down_since = self._clock.now()
            self.reason = reason
            self.outages += 1
            logger.warning("%s stream down: %s", self._broker, reason)

    def sighted(self) -> None:
        """The stream listens and the books agree with the venue again."""
        if not self.connected:
            return
        down_at = self._down_at
        self._down_at = None
        self._down_since = None
        if self.blind:
            self.blind = False
            seconds = 0.0 if down_at is None else self._monotonic() - down_at
            logger.warning("%s account observed again after %.1f s", self._broker, seconds)
            self._bus.publish(BrokerSighted(ts=self._clock.now(), broker=self._broker, blind_seconds=seconds))

    def check(self) -> bool:
        """Publish ``BrokerBlind`` once the outage has lasted ``blind_after``; True when blind."""
        if self.blind or self._down_at is None or self.connected:
            return self.blind
        if self._monotonic() - self._down_at < self.blind_after:
            return False
        self.blind = True
        since = self._down_since or self._clock.now()
        reason = f"{self.reason}; no account updates for {self.blind_after:g} s"
        logger.error("%s account cannot be observed: %s", self._broker, reason)
        self._bus.publish(BrokerBlind(ts=self._clock.now(), broker=self._broker, reason=reason, since=since))
        return True

    def status(self) -> SightStatus:
        return SightStatus(
            self.connected, self.blind, self._down_since, self.reason, self.outages, self.reconnects
        )

    def __repr__(self) -> str:
        state = "blind" if self.blind else "listening" if self.connected else "down"
        return f"Sight({self._broker}, {state}, outages={self.outages})"
