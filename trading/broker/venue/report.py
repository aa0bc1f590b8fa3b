"""``ReconciliationReport``: what a reconciliation with a venue found and repaired.

The venue is the truth: every difference between the books (the journal) and the venue's
view is repaired on our side, and each repair is one ``Discrepancy`` with the two values
and the reason. Shaped like the desk's reconciliation report (the journal against a
broker's view), so it can be shown and stored with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["Discrepancy", "ReconciliationReport"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Discrepancy:
    kind: str  # "position", "order", "cash", "fill"
    subject: str  # the symbol, the order id, "account"
    journal: str  # what the books held
    broker: str  # what the venue holds
    repair: str  # what was done about it
    reason: str = ""

    def describe(self) -> str:
        why = f" ({self.reason})" if self.reason else ""
        return (
            f"{self.kind} {self.subject}: journal {self.journal}, broker {self.broker} -> {self.repair}{why}"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ReconciliationReport:
    """``trigger``: why it ran ("start", "reconnect", "poll"); ``restored``: counts of what the
    venue holds (positions, open orders) and what the books booked from it (fills, orders)."""

    source: str  # the broker kind
    trigger: str
    taken_at: datetime
    restored: dict[str, int] = field(default_factory=dict)
    discrepancies: tuple[Discrepancy, ...] = ()
    skipped: str = ""  # why the positions and cash were not compared this time (the stream moved)

    @property
    def clean(self) -> bool:
        return not self.discrepancies

    def summary(self) -> str:
        counts = ", ".join(f"{v} {k}" for k, v in self.restored.items())
        head = f"{self.source} reconciliation ({self.trigger}): {counts or 'nothing held'}"
        if self.skipped:
            head += f"; positions not compared: {self.skipped}"
        if not self.discrepancies:
            return f"{head}; books agree with the broker"
        return f"{head}; {len(self.discrepancies)} repaired: " + "; ".join(
            d.describe() for d in self.discrepancies
        )

    def as_dict(self) -> dict[str, Any]:
        """Plain data for a snapshot or a key-value row."""
        return {
            "source": self.source,
            "trigger": self.trigger,
            "taken_at": self.taken_at.isoformat(),
            "restored": dict(self.restored),
            "skipped": self.skipped,
            "discrepancies": [
                {
                    "kind": d.kind,
                    "subject": d.subject,
                    "journal": d.journal,
                    "broker": d.broker,
                    "repair": d.repair,
                    "reason": d.reason,
                }
                for d in self.discrepancies
            ],
        }
