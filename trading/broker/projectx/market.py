"""``MarketFeed``: the ProjectX market hub (``/hubs/market``) as the marks of the guarded account.

The gateway's positions carry no price, so open P&L needs quotes. This feed keeps the market hub
connected (``HubSupervisor``, the same supervision as the user hub's: a new client per
connection with the current token, our silence watchdog, backoff), subscribes
``SubscribeContractQuotes(contractId)`` for every contract of interest (``ContractInterest``:
the desk's configured contracts, and every contract the account shows: positions, working
orders, orders and trades on the user hub, a hand-placed trade in a new contract included) on
every connection, and subscribes a contract that becomes of interest while connected within
50 ms. Contracts are not unsubscribed (a handful for a session).

Each ``GatewayQuote`` is translated (``QuoteTranslator``: the mark is the last traded price, the
middle of bid and ask before the contract has traded) and, when the mark moved, handed to
``on_mark`` (the venue broker's ``on_market_data``: the symbol's mark on the books, then
``MarketDataUpdated`` on the bus, which the risk manager measures open P&L on). **Coalesced**:
marks wait in a dict by symbol and are handed on at the loop's next turn, so a burst of quotes
the bus cannot keep up with (messages already read, handled back to back) costs one event per
symbol, the latest; a mark never waits longer than ``_COALESCE`` seconds.

**Staleness**: the feed times the last quote of each contract. A symbol held whose last quote is
older than ``stale_after`` seconds (none since it has been held that long) is *stale*: one
WARNING when it turns stale and the broker status lists it (``stale_marks``, with every mark's
age under ``marks``), the dashboard says so, and ``on_stale`` (the venue broker's
``on_stale_marks``: ``MarksStale`` / ``MarksFresh`` on the bus) holds the account REDUCING while
a held position's open P&L is measured on an old price: no new entries, exits still pass. The
account itself is still observed (fills, positions, cash: the user hub and the reconciliation),
so this is not blindness; the last mark stands until a quote comes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from pysignalr.client import SignalRClient

from trading.broker.projectx.hub import HubSupervisor, Invocation
from trading.broker.projectx.interest import ContractInterest
from trading.broker.projectx.quotes import QuoteTranslator
from trading.broker.projectx.session import GatewaySession
from trading.clock import Clock
from trading.model import MarketDataUpdated

__all__ = ["MarketFeed"]

logger = logging.getLogger(__name__)

SUBSCRIBE = "SubscribeContractQuotes"
_TICK = 0.05  # seconds between checks for new contracts of interest
_STALE_CHECK = 0.5  # seconds between staleness checks
_COALESCE = 0.05  # the longest a mark waits for the loop's next turn


def _no_mark(event: MarketDataUpdated) -> None:
    return None


def _nothing_held() -> Iterable[str]:
    return ()


def _no_stale(symbols: Sequence[str], reason: str) -> None:
    return None


class MarketFeed:
    name = "market hub"

    def __init__(
        self,
        session: GatewaySession,
        hub_url: str,
        translator: QuoteTranslator,
        interest: ContractInterest,
        clock: Clock,
        *,
        stale_after: float = 30.0,
        silence: float = 30.0,
        initial: float = 0.2,
        maximum: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.translator = translator
        self.interest = interest
        self._clock = clock
        self.stale_after = stale_after
        self._monotonic = monotonic
        self.hub = HubSupervisor(
            session, hub_url, self, silence=silence, initial=initial, maximum=maximum, monotonic=monotonic
        )
        self.on_mark: Callable[[MarketDataUpdated], None] = _no_mark  # the venue broker's on_market_data
        self.held: Callable[[], Iterable[str]] = _nothing_held  # the symbols of the positions held
        # the venue broker's on_stale_marks: the held symbols whose marks are stale, when that changes
        self.on_stale: Callable[[Sequence[str], str], None] = _no_stale
        self._pending: dict[str, MarketDataUpdated] = {}
        self._pending_at = 0.0
        self._flush_handle: asyncio.Handle | None = None
        self._received: dict[str, float] = {}  # contract id -> monotonic time of its last quote
        self._sent: set[str] = set()  # contracts subscribed on the open connection
        self._seen = -1  # the interest's version subscribed on the open connection
        self._held_since: dict[str, float] = {}
        self._stale: set[str] = set()
        self._down_since: datetime | None = clock.now()
        self.messages = self.coalesced = self.not_understood = 0

    # --- the task ----------------------------------------------------------------------

    async def run(self) -> None:
        """The hub connected and subscribed, until cancelled."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self.hub.run(), name="projectx-market-hub")
            group.create_task(self._watch(), name="projectx-market-watch")

    async def _watch(self) -> None:
        next_check = 0.0
        while True:
            try:
                if self.hub.listening and self.interest.version != self._seen:
                    await self._subscribe_new()
                now = self._monotonic()
                if now >= next_check:
                    self.check_stale(now)
                    next_check = now + _STALE_CHECK
            except Exception:  # a bug here must not end the hub's task: logged, and the next tick tries again
                logger.exception("ProjectX market hub: the subscription and staleness check failed")
            await asyncio.sleep(_TICK)

    async def _subscribe_new(self) -> None:
        version, wanted = self.interest.snapshot()
        for contract_id in sorted(wanted - self._sent):
            if not await self.hub.invoke(SUBSCRIBE, [contract_id]):
                return  # no connection now: the next one subscribes them all
            self._sent.add(contract_id)
            logger.info("ProjectX market hub: quotes of %s subscribed", contract_id)
        self._seen = version

    # --- HubRole -----------------------------------------------------------------------

    def register(self, client: SignalRClient) -> None:
        client.on("GatewayQuote", self.on_quote)

    def subscriptions(self) -> list[Invocation]:
        self._seen, wanted = self.interest.snapshot()
        self._sent = set(wanted)
        return [(SUBSCRIBE, [contract_id]) for contract_id in sorted(wanted)]

    def connected(self, up: bool) -> None:
        if up:
            if self._down_since is not None:
                logger.info("ProjectX market hub listening: quotes of %d contracts", len(self._sent))
            self._down_since = None
        else:
            self._sent = set()
            self._seen = -1
            if self._down_since is None:
                self._down_since = self._clock.now()
                logger.warning("ProjectX market hub down: marks go stale until it is back")

    # --- quotes ------------------------------------------------------------------------

    async def on_quote(self, args: list[Any]) -> None:
        """One ``GatewayQuote`` (pysignalr's handler: ``[contractId, quote]``)."""
        self.messages += 1
        try:
            contract_id = args[0]
            event = self.translator.quote(contract_id, args[1])
        except (IndexError, KeyError, TypeError, ValueError, AttributeError) as exc:
            self.not_understood += 1  # one bad message must not stop the hub
            logger.warning("ProjectX quote not understood (%r): %.300s", exc, args)
            return
        now = self._monotonic()
        self._received[contract_id] = now
        if event is None:
            return
        pending = self._pending
        if pending:
            self.coalesced += event.symbol in pending
            pending[event.symbol] = event
            if now - self._pending_at >= _COALESCE:
                self.flush()
            return
        pending[event.symbol] = event
        self._pending_at = now
        self._flush_handle = asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        """Hand the marks waiting to ``on_mark``, the latest of each symbol."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        events = list(self._pending.values())
        self._pending.clear()
        for event in events:
            self.on_mark(event)

    # --- staleness ---------------------------------------------------------------------

    def check_stale(self, now: float | None = None) -> list[str]:
        """The held symbols whose mark is stale now; a WARNING for each that just turned stale."""
        now = self._monotonic() if now is None else now
        held = set(self.held())
        for symbol in list(self._held_since):
            if symbol not in held:
                del self._held_since[symbol]
        stale: list[str] = []
        for symbol in sorted(held):
            since = self._held_since.setdefault(symbol, now)
            age = self._age(symbol, now)
            quiet = age is None or age > self.stale_after
            if quiet and now - since > self.stale_after:
                stale.append(symbol)
        turned = [s for s in stale if s not in self._stale]
        for symbol in turned:
            age = self._age(symbol, now)
            seen = "no quote yet" if age is None else f"last quote {age:.0f} s ago"
            hub = "listening" if self.hub.listening else f"down ({self.hub.last_reason or 'not connected'})"
            logger.warning(
                "ProjectX %s mark is stale while held: %s, market hub %s; "
                "open P&L is measured on the last mark",
                symbol,
                seen,
                hub,
            )
        for symbol in self._stale - set(stale):
            logger.info("ProjectX %s mark is fresh again", symbol)
        if set(stale) != self._stale:
            self.on_stale(stale, self._stale_reason())
        self._stale = set(stale)
        return stale

    def _stale_reason(self) -> str:
        if self.hub.listening:
            return f"no quote for {self.stale_after:g} s on the market hub"
        return f"market hub down: {self.hub.last_reason or 'not connected'}"

    def _age(self, symbol: str, now: float) -> float | None:
        mark = self.translator.mark_of(symbol)
        if mark is None:
            return None
        received = self._received.get(mark[0])
        return None if received is None else now - received

    def status(self) -> dict[str, Any]:
        """Plain data for the broker status: the hub, every mark with its age, the stale ones."""
        now = self._monotonic()
        marks: dict[str, dict[str, Any]] = {}
        for symbol in self.translator.symbols():
            found = self.translator.mark_of(symbol)
            if found is None:
                continue
            age = self._age(symbol, now)
            marks[symbol] = {
                "price": found[1],
                "contract": found[0],
                "age": None if age is None else round(age, 1),
            }
        down = self._down_since
        return {
            "market_hub": {
                "connected": self.hub.listening,
                "down_since": None if down is None else down.isoformat(),
                "reason": "" if self.hub.listening else self.hub.last_reason or "not connected yet",
                "quotes": self.messages,
            },
            "marks": marks,
            "stale_marks": sorted(self._stale),
        }

    def __repr__(self) -> str:
        state = "listening" if self.hub.listening else "down"
        return f"MarketFeed({state}, contracts={len(self.interest)}, quotes={self.messages})"
