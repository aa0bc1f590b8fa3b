"""``ReconciliationReport``: what a restart restored and every discrepancy it repaired.

Made once per start by ``Reconciler``; written to the activity log (source ``reconcile``),
stored in the key-value table (``RECONCILIATION_KEY``, JSON) and published in every snapshot
(``Snapshot.reconciliation``) for the dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from trading.snapshot import DiscrepancyView, ReconciliationView

__all__ = ["RECONCILIATION_KEY", "Discrepancy", "ReconciliationReport"]

RECONCILIATION_KEY = "reconciliation"


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """One thing the two views (or the journal and its own fills) disagreed on."""

    subject: str  # "position ES", "cash", "working order O-1", "transaction T-3 (ma_es ES)"
    found: str  # the disagreement: "journal 2, paper broker 3"
    repair: str  # what was done about it
    reason: str  # why

    def describe(self) -> str:
        return f"{self.subject}: {self.found}; {self.repair} ({self.reason})"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReconciliationReport:
    """A restart's reconciliation: the books restored, the transactions restored, the risk
    state restored, and each discrepancy with its repair and reason."""

    at: datetime
    broker: str  # the side compared with the journal
    working_orders: int
    positions: int
    cash: Decimal
    transactions: int  # active transactions restored (WAITING or OPENED after repair)
    risk: str = ""  # the risk manager's restored state, in one line ("" when not known)
    discrepancies: tuple[Discrepancy, ...] = ()
    notes: tuple[str, ...] = ()  # what could not be checked, and why

    @property
    def clean(self) -> bool:
        return not self.discrepancies

    def summary(self) -> str:
        repaired = len(self.discrepancies)
        return (
            f"restart reconciled with the {self.broker}: restored {self.working_orders} working order(s), "
            f"{self.positions} position(s), cash {self.cash:,.2f}, {self.transactions} active "
            f"transaction(s); {repaired} discrepanc{'y' if repaired == 1 else 'ies'}"
            + (f"; {self.risk}" if self.risk else "")
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "broker": self.broker,
            "working_orders": self.working_orders,
            "positions": self.positions,
            "cash": str(self.cash),
            "transactions": self.transactions,
            "risk": self.risk,
            "discrepancies": [
                {"subject": d.subject, "found": d.found, "repair": d.repair, "reason": d.reason}
                for d in self.discrepancies
            ],
            "notes": list(self.notes),
        }

    def to_view(self) -> ReconciliationView:
        return ReconciliationView(
            at=self.at,
            broker=self.broker,
            working_orders=self.working_orders,
            positions=self.positions,
            cash=float(self.cash),
            transactions=self.transactions,
            risk=self.risk,
            discrepancies=tuple(
                DiscrepancyView(d.subject, d.found, d.repair, d.reason) for d in self.discrepancies
            ),
            notes=self.notes,
        )
