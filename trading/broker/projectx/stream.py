"""``ProjectXStream``: the ``VenueStream`` over the ProjectX user hub (SignalR, with pysignalr).

One task on the desk's event loop supervises the hub connection, because pysignalr alone
cannot be left to it (tests/fakes/projectx/README.md pins each quirk): the session token rides
in the hub URL for a client's whole life, its reconnect budget is never refilled, and it ignores
the server's pings, so a hub that falls silent with its socket open goes unnoticed. So:

* each connection is a **new** ``SignalRClient`` with the current token (renewed or re-logged
  in by the ``GatewaySession`` when due), run until it closes, fails, or falls silent;
* ``on_open`` subscribes (``SubscribeAccounts``, then ``SubscribeOrders`` / ``Positions`` /
  ``Trades`` for the account) and the stream is reported listening only when the hub answers
  the last subscription (its completion: proof that the hub is alive, not only the socket), so
  the venue broker's reconciliation after every (re)connect starts with the subscriptions in
  place: what happened while the hub was down is read by REST, what happens from now on
  arrives here; a connection that never answers is no connection (the outage goes on and
  turns into blindness after ``blind_after``);
* **our watchdog**: every message heard (events and the server's pings, noted by a hook on the
  client's dispatch) resets it; ``silence`` seconds without one end the connection as dead;
* after a connection ends the next one follows after a backoff (``initial`` doubling to
  ``maximum``, back to ``initial`` once a connection has lasted ``silence`` seconds).

Messages are translated (``HubTranslator``) and handed to the venue broker in the order the hub
sent them. Stopping is cancelling the task.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from typing import Any

from pysignalr.client import SignalRClient
from pysignalr.messages import CompletionMessage, Message

from trading.broker.projectx.session import GatewaySession
from trading.broker.projectx.translator import HubTranslator
from trading.broker.venue.errors import VenueError
from trading.broker.venue.facts import VenueUpdate

__all__ = ["ProjectXStream"]

logger = logging.getLogger(__name__)

_TOKEN = re.compile(r"(access_token=|Bearer )[^&\s`'\"]+")


class _RedactTokens(logging.Filter):
    """pysignalr logs the negotiate URL (the session token in its query) at INFO, and the
    websockets client it drives logs request lines and headers at DEBUG under the same logger:
    the token is replaced before any handler sees the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "access_token=" in message or "Bearer " in message:
            record.msg = _TOKEN.sub(r"\1<redacted>", message)
            record.args = None
        return True


for _name in ("pysignalr", "pysignalr.transport", "pysignalr.client"):
    logging.getLogger(_name).addFilter(_RedactTokens())

_TICK = 0.05  # seconds between the supervisor's checks


class _HeardClient(SignalRClient):
    """pysignalr's client, telling ``heard`` of every message it receives (pings included)."""

    def __init__(self, url: str, heard: Callable[[], None], **options: Any) -> None:
        super().__init__(url, **options)
        self._heard = heard

    async def _on_message(self, message: Message) -> None:
        self._heard()
        await super()._on_message(message)


class ProjectXStream:
    def __init__(
        self,
        session: GatewaySession,
        hub_url: str,
        translator: HubTranslator,
        *,
        silence: float = 30.0,
        initial: float = 0.2,
        maximum: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._session = session
        self._hub_url = hub_url.rstrip("/")
        self.translator = translator
        self.silence = silence
        self._initial = initial
        self._maximum = maximum
        self._monotonic = monotonic
        self._on_update: Callable[[VenueUpdate], None] = _ignore_update
        self._on_connected: Callable[[bool], None] = _ignore_state
        self._listening = False
        self._closed = asyncio.Event()
        self._heard_at = 0.0
        self.connections = self.messages = self.silent_drops = 0
        self.last_reason = ""

    async def run(
        self, on_update: Callable[[VenueUpdate], None], on_connected: Callable[[bool], None]
    ) -> None:
        """Connect, listen, reconnect; until cancelled."""
        self._on_update = on_update
        self._on_connected = on_connected
        failures = 0
        try:
            while True:
                lasted = await self._connect_once()
                failures = 1 if lasted >= self.silence else failures + 1
                delay = min(self._maximum, self._initial * 2 ** (failures - 1))
                logger.debug("ProjectX hub: next connection in %.2f s", delay)
                await asyncio.sleep(delay)
        finally:
            self._set_listening(False)

    async def _connect_once(self) -> float:
        """One hub connection, until it ends; how long it listened (seconds)."""
        try:
            token = await asyncio.to_thread(self._session.token)
        except VenueError as exc:
            self.last_reason = f"no session token: {exc}"
            logger.warning("ProjectX hub: %s", self.last_reason)
            return 0.0
        self._closed = asyncio.Event()
        ping = max(1, int(self.silence / 2))
        client = _HeardClient(
            f"{self._hub_url}?access_token={token}",
            self._heard,
            ping_interval=ping,
            connection_timeout=max(1, int(self.silence)),
            retry_count=1,
            retry_sleep=self._initial,
        )
        client.on("GatewayUserOrder", self._orders)
        client.on("GatewayUserTrade", self._trades)
        client.on("GatewayUserPosition", self._other)
        client.on("GatewayUserAccount", self._other)
        client.on_open(lambda: self._opened(client))
        client.on_close(self._on_close)
        client.on_error(self._on_error)
        self.connections += 1
        started = self._monotonic()
        self._heard_at = started
        listened_at: float | None = None
        task = asyncio.get_running_loop().create_task(client.run(), name="projectx-hub")
        try:
            while True:
                await asyncio.wait({task}, timeout=_TICK)
                now = self._monotonic()
                if self._listening and listened_at is None:
                    listened_at = now
                reason = self._ended(task, now, listened_at is not None)
                if reason is not None:
                    break
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            lasted = 0.0 if listened_at is None else self._monotonic() - listened_at
            self._set_listening(False)
        self.last_reason = reason
        logger.warning("ProjectX hub connection %d ended: %s", self.connections, reason)
        return lasted

    def _ended(self, task: asyncio.Task[None], now: float, listened: bool) -> str | None:
        if task.done():
            error = task.exception()
            return "ended" if error is None else f"{type(error).__name__}: {str(error)[:200]}"
        if self._closed.is_set():
            return "connection closed"
        if now - self._heard_at > self.silence:
            if listened:
                self.silent_drops += 1
                return f"no message (not even a ping) for {self.silence:g} s"
            return f"not connected after {self.silence:g} s"
        return None

    def _heard(self) -> None:
        self._heard_at = self._monotonic()

    async def _opened(self, client: SignalRClient) -> None:
        account = self.translator.account_id
        await client.send("SubscribeAccounts", [])
        for method in ("SubscribeOrders", "SubscribePositions"):
            await client.send(method, [account])  # type: ignore[list-item]
        await client.send("SubscribeTrades", [account], on_invocation=self._subscribed)  # type: ignore[list-item]

    async def _subscribed(self, message: Message) -> None:
        """The hub answered the last subscription: it is alive and sends us the account's events."""
        error = getattr(message, "error", None)
        if error:
            logger.warning("ProjectX hub refused the subscriptions: %.300s", error)
            self._closed.set()
            return
        self._set_listening(True)

    async def _on_close(self) -> None:
        self._closed.set()
        self._set_listening(False)

    async def _on_error(self, message: CompletionMessage) -> None:
        logger.warning("ProjectX hub error: %.300s", message.error)

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

    def _set_listening(self, listening: bool) -> None:
        if listening != self._listening:
            self._listening = listening
            self._on_connected(listening)

    def __repr__(self) -> str:
        state = "listening" if self._listening else "down"
        return (
            f"ProjectXStream({self._hub_url}, {state}, connections={self.connections}, "
            f"messages={self.messages})"
        )


def _ignore_update(update: VenueUpdate) -> None:
    return None


def _ignore_state(up: bool) -> None:
    return None
