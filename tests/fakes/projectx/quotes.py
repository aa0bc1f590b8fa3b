"""``QuoteBoard``: each contract's quote as the fake's market hub sends it (``GatewayQuote``).

The quote's fields, as clients read them (project-x-py 4.4.1 ``realtime_data_manager``:
``lastPrice``, ``bestBid``, ``bestAsk``, ``volume`` as the day's total, ``symbol`` and
``timestamp`` required; the others from the field list third-party clients model): ``symbol``
(the contract's ``symbolId``, ``F.US.EP``), ``symbolName`` (``/ES``: **inferred**),
``lastPrice``, ``bestBid``, ``bestAsk``, ``change`` and ``changePercent`` (against the first
price of the session: the fake has no previous close, **inferred**), ``open``, ``high``,
``low``, ``volume`` (the day's total: what the test sets, 0 by default), ``lastUpdated`` and
``timestamp`` (ISO 8601, UTC). Prices are JSON numbers. A side of the book that is not known is
left out, not sent as null.

A quote is whole by default; a **partial** one carries only the prices that changed, plus
``symbol`` and ``timestamp`` (project-x-py accepts such quotes: "some may not have all price
fields"; whether the real hub sends them is not documented).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from tests.fakes.projectx.contracts import ContractSpec

__all__ = ["ContractQuote", "QuoteBoard"]


@dataclass
class ContractQuote:
    contract: ContractSpec
    last: Decimal | None = None
    bid: Decimal | None = None
    ask: Decimal | None = None
    open: Decimal | None = None
    high: Decimal | None = None
    low: Decimal | None = None
    volume: int = 0
    updated: datetime | None = None

    def payload(self, *, only: tuple[str, ...] | None = None) -> dict[str, Any]:
        """The ``GatewayQuote`` data; ``only``: the fields of a partial quote (besides
        ``symbol`` and ``timestamp``)."""
        assert self.updated is not None
        stamp = self.updated.isoformat()
        change = None if self.last is None or self.open is None else self.last - self.open
        fields: dict[str, Any] = {
            "symbolName": f"/{self.contract.symbol}",
            "lastPrice": self.last,
            "bestBid": self.bid,
            "bestAsk": self.ask,
            "change": change,
            "changePercent": None if change is None or not self.open else change / self.open * 100,
            "open": self.open,
            "high": self.high,
            "low": self.low,
            "volume": self.volume,
            "lastUpdated": stamp,
        }
        if only is not None:
            fields = {name: value for name, value in fields.items() if name in only}
        data: dict[str, Any] = {"symbol": self.contract.symbol_id}
        for name, value in fields.items():
            if value is not None:
                data[name] = float(value) if isinstance(value, Decimal) else value
        data["timestamp"] = stamp
        return data


class QuoteBoard:
    """Every contract's quote (set from the test thread, read from the server's)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._quotes: dict[str, ContractQuote] = {}

    def __repr__(self) -> str:
        with self._lock:
            return f"QuoteBoard({ {cid: q.last for cid, q in self._quotes.items()} })"

    def set(
        self,
        contract: ContractSpec,
        now: datetime,
        *,
        last: Decimal | None,
        bid: Decimal | None,
        ask: Decimal | None,
        volume: int | None = None,
        partial: bool = False,
    ) -> tuple[ContractQuote, dict[str, Any]]:
        """The contract's quote after this change, and its ``GatewayQuote`` data: ``last``
        traded (None: no trade). A whole quote sets the book to exactly ``bid``/``ask``; a
        ``partial`` one changes only the sides given, and its data carries only what was given."""
        with self._lock:
            quote = self._quotes.setdefault(contract.id, ContractQuote(contract))
            if last is not None:
                quote.last = last
                quote.open = last if quote.open is None else quote.open
                quote.high = last if quote.high is None else max(quote.high, last)
                quote.low = last if quote.low is None else min(quote.low, last)
            if partial:
                quote.bid = quote.bid if bid is None else bid
                quote.ask = quote.ask if ask is None else ask
            else:
                quote.bid, quote.ask = bid, ask
            if volume is not None:
                quote.volume = volume
            quote.updated = now
            only = None
            if partial:
                given = {"lastPrice": last, "bestBid": bid, "bestAsk": ask, "volume": volume}
                only = tuple(name for name, value in given.items() if value is not None)
            return quote, quote.payload(only=only)

    def get(self, contract_id: str) -> ContractQuote | None:
        with self._lock:
            return self._quotes.get(contract_id)
