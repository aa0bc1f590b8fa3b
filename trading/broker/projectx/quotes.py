"""``QuoteTranslator``: the market hub's ``GatewayQuote`` messages as marks (``MarketDataUpdated``).

A ``GatewayQuote`` invocation carries ``[contractId, quote]``; the quote's fields (gateway docs,
"Real Time Data Overview"; project-x-py 4.4.1 ``realtime_data_manager``; see
tests/fakes/projectx/README.md) are ``symbol`` (``F.US.EP``), ``symbolName``, ``lastPrice``,
``bestBid``, ``bestAsk``, ``change``, ``changePercent``, ``open``, ``high``, ``low``,
``volume`` (the day's total, not a trade's size), ``lastUpdated`` and ``timestamp``. A quote
may carry only what changed (project-x-py requires only ``symbol`` and ``timestamp``): a field
that is missing or null leaves the last value seen for the contract.

**The mark** is the last traded price (``lastPrice``): what the platform's own P&L and a
firm's open-P&L rules count, so the desk measures the loss the firm measures. Until the
contract has traded in this session (no ``lastPrice`` seen yet) the mark is the middle of
``bestBid`` and ``bestAsk`` when both are known; with neither there is no mark. A quote that
leaves the mark where it was (a change of the book only) publishes nothing: the risk engine is
asked again only when the price it measures moves.

One symbol can be quoted from two contracts (the previous month still held at a roll, and the
front month the desk trades): its mark comes from one contract only, the one held when one is
(``ContractInterest.held``), else the first quoted.

Cheap by design (the market hub is the desk's highest-rate input): dict reads, a float
comparison, and an event only when the mark moves; event time is the desk clock's now (the
quote's own ``timestamp`` is not parsed: staleness is judged by when quotes arrive).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trading.broker.projectx.interest import ContractInterest
from trading.broker.projectx.wire import Symbols
from trading.clock import Clock
from trading.model import MarketDataUpdated

__all__ = ["ContractQuote", "QuoteTranslator"]

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class ContractQuote:
    """The last values seen for one contract."""

    contract_id: str
    symbol: str
    last: float | None = None
    bid: float | None = None
    ask: float | None = None
    mark: float | None = None

    def update(self, data: Mapping[str, Any]) -> float | None:
        """Take the quote's prices; the new mark (or None when there is none)."""
        value = data.get("lastPrice")
        if value is not None and value > 0:
            self.last = float(value)
        value = data.get("bestBid")
        if value is not None and value > 0:
            self.bid = float(value)
        value = data.get("bestAsk")
        if value is not None and value > 0:
            self.ask = float(value)
        if self.last is not None:
            return self.last
        if self.bid is not None and self.ask is not None:
            return (self.bid + self.ask) / 2
        return None


class QuoteTranslator:
    def __init__(self, symbol_of: Symbols, clock: Clock, interest: ContractInterest) -> None:
        self._symbol_of = symbol_of
        self._clock = clock
        self._interest = interest
        self._contracts: dict[str, ContractQuote] = {}
        self._owner: dict[str, str] = {}  # symbol -> the contract its mark comes from
        self.quotes = self.marks = self.skipped = 0

    def quote(self, contract_id: str, data: Mapping[str, Any]) -> MarketDataUpdated | None:
        """One ``GatewayQuote``: the mark's event when it moved the mark, else None."""
        self.quotes += 1
        book = self._contracts.get(contract_id)
        if book is None:
            book = self._contracts[contract_id] = ContractQuote(contract_id, self._symbol_of(contract_id))
        before = book.mark
        mark = book.update(data)
        if mark is None:
            return None
        book.mark = mark
        symbol = book.symbol
        owner = self._owner.get(symbol)
        if owner != contract_id:
            if owner is not None and not self._takes_over(contract_id, owner):
                self.skipped += 1
                return None
            self._owner[symbol] = contract_id
            before = None  # a new source for the symbol: its mark is published
        if mark == before:
            return None
        self.marks += 1
        return MarketDataUpdated(ts=self._clock.now(), symbol=symbol, price=mark, bid=book.bid, ask=book.ask)

    def _takes_over(self, contract_id: str, owner: str) -> bool:
        held = self._interest.held
        return contract_id in held and owner not in held

    def mark_of(self, symbol: str) -> tuple[str, float] | None:
        """The contract ``symbol``'s mark comes from and the mark, when there is one."""
        owner = self._owner.get(symbol)
        if owner is None:
            return None
        mark = self._contracts[owner].mark
        return None if mark is None else (owner, mark)

    def symbols(self) -> list[str]:
        return sorted(self._owner)

    def __repr__(self) -> str:
        return f"QuoteTranslator(contracts={len(self._contracts)}, quotes={self.quotes}, marks={self.marks})"
