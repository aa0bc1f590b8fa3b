"""``StatePublisher``: where a published snapshot goes (the state file), and with it, in the
key-value table, the last prices (where a restarted simulated feed goes on from) and the
risk counters. The books are not here: the journal commits them step by step."""

from __future__ import annotations

from typing import Any

from trading.memory import StateManager
from trading.snapshot import SNAPSHOT_KEY, Snapshot
from trading.storage import KeyValueRepository

__all__ = ["ACCOUNT_KEY", "LAST_PRICES_KEY", "RISK_KEY", "StatePublisher"]

ACCOUNT_KEY = "paper_account"  # the version-1 account blob: read once to import it, never written
LAST_PRICES_KEY = "last_prices"
RISK_KEY = "risk_state"


class StatePublisher:
    def __init__(self, state: StateManager, kv: KeyValueRepository) -> None:
        self.state = state
        self._kv = kv
        self.writes = 0

    def write(self, snap: Snapshot, last_prices: dict[str, float], risk_state: dict[str, Any]) -> None:
        """Runs on a worker thread: the snapshot to the state file, the last prices and the
        risk counters to SQLite (all three taken on the loop, so they are consistent)."""
        self.state.set(SNAPSHOT_KEY, snap)
        self.state.save()
        self._kv.put(LAST_PRICES_KEY, last_prices)
        self._kv.put(RISK_KEY, risk_state)
        self.writes += 1

    def previous_snapshot(self) -> Snapshot | None:
        """The snapshot a previous desk left (read at construction), if it is one."""
        snap = self.state.get(SNAPSHOT_KEY)
        return snap if isinstance(snap, Snapshot) else None

    def __repr__(self) -> str:
        return f"StatePublisher({self.state.path}, writes={self.writes})"
