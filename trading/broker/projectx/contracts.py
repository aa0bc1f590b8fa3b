"""``ContractMap``: our symbols (``ES``, ``MES``, ``NQ``...) and the platform's contract ids.

A ProjectX contract id is ``CON.F.US.<root>.<month><yy>`` (``CON.F.US.EP.H26``). The roots are
the exchange's product codes, which differ from the symbols traders use for two products
(E-mini S&P 500 is ``EP``, E-mini Nasdaq-100 ``ENQ``); the others keep theirs (``MES``,
``MNQ``, ``RTY``...). A symbol trades the contract pinned for it in the settings
(``contracts: {ES: CON.F.US.EP.H26}``), else its front month: the active contract that
``/api/Contract/search`` lists for it. Every contract id the account shows (a hand order on a
month we do not trade, the previous month still held) is read back to its symbol by its root,
so positions and P&L add up per product.

The instrument a symbol gets when the desk's config does not list it comes from the contract
(``tickSize``; ``tickValue / tickSize`` as the multiplier, no commission).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from trading.model import Instrument

__all__ = ["ContractMap", "root_of"]

_ROOTS = {"ES": "EP", "NQ": "ENQ"}  # our symbol -> the platform's root, where they differ
_SYMBOLS = {root: symbol for symbol, root in _ROOTS.items()}
_PREFIX = "CON.F."


def root_of(contract_id: str) -> str | None:
    """``CON.F.US.EP.H26`` -> ``EP``; None for an id of another shape."""
    parts = contract_id.split(".")
    if not contract_id.startswith(_PREFIX) or len(parts) < 5:
        return None
    return parts[-2]


class ContractMap:
    def __init__(self, pinned: Mapping[str, str] | None = None) -> None:
        self._lock = threading.Lock()
        self._ids: dict[str, str] = {s.upper(): c for s, c in (pinned or {}).items()}  # symbol -> contract id
        self._pinned = frozenset(self._ids)
        self._symbols: dict[str, str] = {c: s for s, c in self._ids.items()}  # contract id -> symbol
        self._specs: dict[str, dict[str, Any]] = {}  # symbol -> contract JSON

    @staticmethod
    def root(symbol: str) -> str:
        return _ROOTS.get(symbol.upper(), symbol.upper())

    def contract_id(self, symbol: str) -> str | None:
        """The contract ``symbol`` trades, when known (pinned, or found by ``learn``)."""
        with self._lock:
            return self._ids.get(symbol.upper())

    def symbol(self, contract_id: str) -> str:
        """Our symbol for any contract id of the account."""
        with self._lock:
            known = self._symbols.get(contract_id)
        if known is not None:
            return known
        root = root_of(contract_id)
        return contract_id if root is None else _SYMBOLS.get(root, root)

    def front(self, symbol: str, listed: list[dict[str, Any]]) -> dict[str, Any] | None:
        """The contract of ``symbol`` among those a search listed: the pinned one, else the
        active contract with its root."""
        root = self.root(symbol)
        pinned = self.contract_id(symbol)
        mine = [c for c in listed if root_of(str(c.get("id", ""))) == root]
        if pinned is not None:
            return next((c for c in mine if c.get("id") == pinned), None)
        active = [c for c in mine if c.get("activeContract")]
        return active[0] if active else None

    def learn(self, symbol: str, contract: dict[str, Any], *, trades: bool = True) -> None:
        """``contract`` (a contract JSON of the gateway) is one of ``symbol``'s; ``trades``: the
        one the desk's orders go to."""
        symbol = symbol.upper()
        with self._lock:
            if trades:
                self._ids[symbol] = contract["id"]
                self._symbols[contract["id"]] = symbol
            self._specs.setdefault(symbol, contract)
            if trades:
                self._specs[symbol] = contract

    def instrument(self, symbol: str) -> Instrument | None:
        """The instrument the contract describes, or None before the contract is known."""
        with self._lock:
            spec = self._specs.get(symbol.upper())
        if spec is None:
            return None
        tick = Decimal(str(spec["tickSize"]))
        multiplier = Decimal(str(spec["tickValue"])) / tick
        return Instrument(
            symbol=symbol.upper(), tick_size=float(tick), multiplier=float(multiplier), commission=0.0
        )

    def known(self) -> dict[str, str]:
        with self._lock:
            return dict(self._ids)

    def __repr__(self) -> str:
        return f"ContractMap({self.known()})"
