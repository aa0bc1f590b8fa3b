"""``ContractInterest``: the contracts whose quotes the desk wants from the market hub.

A contract is of interest once the desk trades it (a configured instrument's contract, fixed at
start) or the account shows it: a position held, an order working, an order or trade on the
user hub (a hand-placed trade in a contract the desk never traded). Contracts are added from
the request lanes' threads (REST reads) and from the loop (hub messages), and read by the
market hub's task on the loop: a lock, and a ``version`` that moves on every addition so the
reader notices without comparing sets. ``held`` is the contracts of the positions the last REST
read showed (where a symbol quoted from two months takes its mark). Nothing is removed: a
contract stays of interest for the session (a handful of contracts; a quote of one no longer
held costs a dict update).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

__all__ = ["ContractInterest"]


class ContractInterest:
    def __init__(self, contract_ids: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._ids: set[str] = set(contract_ids)
        self.version = len(self._ids)
        self.held: frozenset[str] = frozenset()

    def add(self, contract_id: str) -> None:
        if contract_id in self._ids:  # the common case, without the lock (a set read is atomic)
            return
        with self._lock:
            if contract_id not in self._ids:
                self._ids.add(contract_id)
                self.version += 1

    def add_all(self, contract_ids: Iterable[str]) -> None:
        for contract_id in contract_ids:
            self.add(contract_id)

    def hold(self, contract_ids: Iterable[str]) -> None:
        """The contracts of the positions held now (replacing the last read's); of interest too."""
        held = frozenset(contract_ids)
        self.add_all(held)
        self.held = held

    def snapshot(self) -> tuple[int, frozenset[str]]:
        """The version and the contracts of interest at that version."""
        with self._lock:
            return self.version, frozenset(self._ids)

    def __contains__(self, contract_id: object) -> bool:
        return contract_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def __repr__(self) -> str:
        return f"ContractInterest({sorted(self._ids)})"
