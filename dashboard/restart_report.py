"""The desk's last start, in words and a table: what it restored from its journal and each
discrepancy it found, with the repair and the reason (``Snapshot.reconciliation``). Pure: no
``st.*`` calls; ``views/overview.py`` draws it."""

from __future__ import annotations

import pandas as pd

from dashboard.desk_clock import DeskClock
from dashboard.money import money
from trading.snapshot import ReconciliationView

__all__ = ["discrepancies_frame", "restart_summary", "restart_title"]


def restart_title(view: ReconciliationView) -> str:
    found = len(view.discrepancies)
    if not found:
        return "Last start: the books agreed, nothing repaired"
    return f"Last start: {found} discrepanc{'y' if found == 1 else 'ies'} repaired or reported"


def restart_summary(view: ReconciliationView, clock: DeskClock) -> str:
    """One sentence: when, against which broker, and what came back."""
    return (
        f"At {clock.local(view.at)} the desk rebuilt its books from the journal and compared them "
        f"with the {view.broker} and with the journal's own fills: {view.working_orders} working "
        f"order(s), {view.positions} position(s), cash {money(view.cash)}, {view.transactions} active "
        "transaction(s) restored."
    )


def discrepancies_frame(view: ReconciliationView) -> pd.DataFrame:
    return pd.DataFrame(
        [(d.subject, d.found, d.repair, d.reason) for d in view.discrepancies],
        columns=["what", "found", "repair", "reason"],
    )
