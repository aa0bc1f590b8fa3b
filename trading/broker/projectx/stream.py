"""``ProjectXStream``: the ``VenueStream`` over the ProjectX user hub, and the market hub beside it.

The user hub (``/hubs/user``) is the desk's eye on the account: its connection is supervised by
a ``HubSupervisor`` (a new pysignalr client per connection with the current token, our silence
watchdog, backoff: see hub.py) whose role is this stream: on every connection it subscribes
``SubscribeAccounts``, then ``SubscribeOrders`` / ``Positions`` / ``Trades`` for the account,
and the stream is reported listening only when the hub answers the last subscription, so the
venue broker's reconciliation after every (re)connect starts with the subscriptions in place:
what happened while the hub was down is read by REST, what happens from now on arrives here; a
connection that never answers is no connection (the outage goes on and turns into blindness
after ``blind_after``).

Messages are translated (``HubTranslator``) and handed to the venue broker in the order the hub
sent them. With a ``MarketFeed`` (the market hub: quotes as marks) the stream runs it beside
the user hub, as a task of its own started and stopped with the stream: its failure is logged
and never ends the user hub, and its state never counts as the account's (a market hub that is
down makes marks stale, not the desk blind); it is in ``status()``. Stopping is cancelling the
task.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from pysignalr.client import SignalRClient

from trading.broker.projectx.hub import HubSupervisor, Invocation
from trading.broker.projectx.market import MarketFeed
from trading.broker.projectx.session import GatewaySession
from trading.broker.projectx.translator import HubTranslator
from trading.broker.venue.facts import VenueUpdate

__all__ = ["ProjectXStream"]

logger = logging.getLogger(__name__)


class ProjectXStream:
    name = "user hub"

    def __init__(
        self,
        session: GatewaySession,
        hub_url: str,
        translator: HubTranslator,
        *,
        market: MarketFeed | None = None,
        silence: float = 30.0,
        initial: float = 0.2,
        maximum: float = 5.0,
    ) -> None:
        self.translator = translator
        self.market = market
        self.hub = HubSupervisor(session, hub_url, self, silence=silence, initial=initial, maximum=maximum)
        self._on_update: Callable[[VenueUpdate], None] = _ignore_update
        self._on_connected: Callable[[bool], None] = _ignore_state
        self.messages = 0

    async def run(
        self, on_update: Callable[[VenueUpdate], None], on_connected: Callable[[bool], None]
    ) -> None:
        """Connect, listen, reconnect (and the market hub, when there is one); until cancelled."""
        self._on_update = on_update
        self._on_connected = on_connected
        if self.market is None:
            await self.hub.run()
            return
        market = asyncio.get_running_loop().create_task(self.market.run(), name="projectx-market")
        market.add_done_callback(_market_ended)
        try:
            await self.hub.run()  # the account's eye: a failure of the market hub never ends it
        finally:
            market.cancel()
            await asyncio.gather(market, return_exceptions=True)

    def status(self) -> dict[str, Any]:
        """The market hub and the marks (merged into the venue broker's status)."""
        return {} if self.market is None else self.market.status()

    # --- HubRole -----------------------------------------------------------------------

    def register(self, client: SignalRClient) -> None:
        client.on("GatewayUserOrder", self._orders)
        client.on("GatewayUserTrade", self._trades)
        client.on("GatewayUserPosition", self._other)
        client.on("GatewayUserAccount", self._other)

    def subscriptions(self) -> list[Invocation]:
        account = self.translator.account_id
        return [
            ("SubscribeAccounts", []),
            ("SubscribeOrders", [account]),
            ("SubscribePositions", [account]),
            ("SubscribeTrades", [account]),
        ]

    def connected(self, up: bool) -> None:
        self._on_connected(up)

    # --- messages ----------------------------------------------------------------------

    async def _orders(self, args: list[Any]) -> None:
        for payload in args:
            self._dispatch(self.translator.order, payload)

    async def _trades(self, args: list[Any]) -> None:
        for payload in args:
            self._dispatch(self.translator.trade, payload)

    async def _other(self, args: list[Any]) -> None:
        self.messages += len(args)

    def _dispatch(self, translate: Callable[[Any], VenueUpdate | None], payload: Any) -> None:
        self.messages += 1
        try:
            update = translate(payload)
        except (KeyError, TypeError, ValueError) as exc:  # one bad message must not stop the hub
            logger.warning("ProjectX hub message not understood (%r): %.300s", exc, payload)
            return
        if update is not None:
            self._on_update(update)

    def __repr__(self) -> str:
        state = "listening" if self.hub.listening else "down"
        return (
            f"ProjectXStream({self.hub.hub_url}, {state}, connections={self.hub.connections}, "
            f"messages={self.messages}, market={self.market!r})"
        )


def _market_ended(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("ProjectX market hub stopped: %r; positions are no longer marked", task.exception())


def _ignore_update(update: VenueUpdate) -> None:
    return None


def _ignore_state(up: bool) -> None:
    return None
