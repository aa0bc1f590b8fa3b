"""TamperLock: while the desk runs, an edit that loosens the risk file waits for the daily reset.

What prop-firm platforms call "lock risk settings": in the heat of a losing day, raising the
loss limit, disabling a rule, switching it to shadow mode or choosing a milder action is
refused until the next daily reset; a tightening applies at once. An edit with both is
refused as a whole, naming the loosened fields (``trading.risk.loosening`` says, field by
field, which way loosens). After the reset the held edit is accepted if the file still says
it (the ``RiskManager`` reads the file again then).

The running config's ``tamper_lock: false`` turns the lock off; switching it off is itself a
loosening, so it too waits for the reset. The lock guards a *running* desk: it is armed by
``RiskManager.start()``, and a desk started afresh loads its file as it is.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from trading.risk.config import RiskConfig
from trading.risk.loosening import Loosening, loosenings

__all__ = ["TamperLock", "TamperLockStatistics"]

logger = logging.getLogger(__name__)

_NAMED = 4  # loosened fields named in one refusal line; the rest are counted


@dataclass(frozen=True, slots=True)
class TamperLockStatistics:
    armed: bool
    held_until: datetime | None
    refusals: int
    released: int


class TamperLock:
    """Decides, for a valid proposed config, whether it may replace the running one now."""

    def __init__(self) -> None:
        self.armed = False
        self.held_until: datetime | None = None  # a loosening edit waits for this reset
        self.refusals = 0
        self.released = 0

    def arm(self) -> None:
        """From now on loosening edits wait for the reset (the desk has started)."""
        self.armed = True

    def due(self, now: datetime) -> bool:
        """True when an edit was held and its reset has passed: read the file again now."""
        return self.held_until is not None and now >= self.held_until

    def review(
        self, running: RiskConfig, proposed: RiskConfig, *, now: datetime, next_reset: datetime, zone: str
    ) -> str | None:
        """None when ``proposed`` may be swapped in now; else the refusal, one line that names the
        loosened fields and says when the edit will be accepted (``next_reset`` in ``zone``)."""
        if self.held_until is not None and now >= self.held_until:
            self.held_until = None
            self.released += 1
            logger.warning(
                "the daily reset has passed: the risk config edit the tamper lock held is accepted"
            )
            return None
        if not self.armed or not running.tamper_lock:
            self.held_until = None
            return None
        found = loosenings(running, proposed)
        if not found:
            self.held_until = None  # a tightening (or a revert of the held edit) replaces what was held
            return None
        self.held_until = next_reset
        self.refusals += 1
        return _refusal(found, next_reset, zone)

    def statistics(self) -> TamperLockStatistics:
        return TamperLockStatistics(self.armed, self.held_until, self.refusals, self.released)

    def __repr__(self) -> str:
        held = "none" if self.held_until is None else self.held_until.isoformat()
        return f"TamperLock(armed={self.armed}, held_until={held}, refusals={self.refusals})"


def _refusal(found: list[Loosening], until: datetime, zone: str) -> str:
    named = "; ".join(f"{item} ({item.why})" for item in found[:_NAMED])
    more = f"; and {len(found) - _NAMED} more" if len(found) > _NAMED else ""
    local = until.astimezone(ZoneInfo(zone))
    return (
        f"risk config change refused by the tamper lock: it loosens {named}{more}. "
        f"It will be accepted at the daily reset, {local:%Y-%m-%d %H:%M} {zone}, if the file still "
        "says it; a change that only tightens applies at once"
    )
