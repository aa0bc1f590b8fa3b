"""``HubSupervisor``: one ProjectX SignalR hub (user or market) kept connected, with pysignalr.

pysignalr alone cannot be left to keep a hub connected (tests/fakes/projectx/README.md pins each
quirk): the session token rides in the hub URL for a client's whole life, its reconnect budget is
never refilled, and it ignores the server's pings, so a hub that falls silent with its socket
open goes unnoticed. So one task on the desk's event loop supervises the hub:

* each connection is a **new** ``SignalRClient`` with the current token (renewed or re-logged
  in by the ``GatewaySession`` when due), run until it closes, fails, or falls silent;
* on open the ``HubRole``'s subscriptions are sent in order, and the hub counts as listening
  only when it answers the last one (its completion: proof that the hub is alive, not only the
  socket); a role with nothing to subscribe listens once the handshake is done; a connection
  that never answers is no connection (the outage goes on);
* **our watchdog**: every message heard (events and the server's pings, noted by a hook on the
  client's dispatch) resets it; ``silence`` seconds without one end the connection as dead;
* after a connection ends the next one follows after a backoff (``initial`` doubling to
  ``maximum``, back to ``initial`` once a connection has lasted ``silence`` seconds).

The role (``HubRole``) says what the hub is for: its event handlers, its subscriptions, and
what a change of the connection means. ``invoke`` sends one more invocation on the open
connection (a subscription made while connected). Stopping is cancelling the task.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from pysignalr.client import SignalRClient
from pysignalr.messages import CompletionMessage, Message

from trading.broker.projectx.session import GatewaySession
from trading.broker.venue.errors import VenueError

__all__ = ["HubRole", "HubStatistics", "HubSupervisor", "Invocation"]

logger = logging.getLogger(__name__)

_TOKEN = re.compile(r"(access_token=|Bearer )[^&\s`'\"]+")
_TICK = 0.05  # seconds between the supervisor's checks
_SEND_WAIT = 5.0  # seconds an invocation on the open connection may take to go out

Invocation = tuple[str, list[Any]]  # hub method, arguments


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


class HubRole(Protocol):
    """What one hub is for."""

    name: str  # "user hub", "market hub": for the logs

    def register(self, client: SignalRClient) -> None:
        """Set the client's event handlers (``client.on``)."""
        ...

    def subscriptions(self) -> list[Invocation]:
        """The invocations a new connection sends, in order (called when it opens)."""
        ...

    def connected(self, up: bool) -> None:
        """The hub listens (its subscriptions answered), or the connection was lost."""
        ...


@dataclass(frozen=True, slots=True)
class HubStatistics:
    listening: bool
    connections: int  # connections tried, ever
    silent_drops: int  # connections our watchdog ended
    last_reason: str  # why the last connection ended ("" before any ended)


class _HeardClient(SignalRClient):
    """pysignalr's client, telling ``heard`` of every message it receives (pings included)."""

    def __init__(self, url: str, heard: Callable[[], None], **options: Any) -> None:
        super().__init__(url, **options)
        self._heard = heard

    async def _on_message(self, message: Message) -> None:
        self._heard()
        await super()._on_message(message)


class HubSupervisor:
    def __init__(
        self,
        session: GatewaySession,
        hub_url: str,
        role: HubRole,
        *,
        silence: float = 30.0,
        initial: float = 0.2,
        maximum: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._session = session
        self.hub_url = hub_url.rstrip("/")
        self._role = role
        self.silence = silence
        self._initial = initial
        self._maximum = maximum
        self._monotonic = monotonic
        self._listening = False
        self._closed = asyncio.Event()
        self._open: SignalRClient | None = None  # the connection whose subscriptions were sent
        self._heard_at = 0.0
        self.connections = self.silent_drops = 0
        self.last_reason = ""

    @property
    def listening(self) -> bool:
        return self._listening

    async def run(self) -> None:
        """Connect, listen, reconnect; until cancelled."""
        failures = 0
        try:
            while True:
                lasted = await self._connect_once()
                failures = 1 if lasted >= self.silence else failures + 1
                delay = min(self._maximum, self._initial * 2 ** (failures - 1))
                logger.debug("ProjectX %s: next connection in %.2f s", self._role.name, delay)
                await asyncio.sleep(delay)
        finally:
            self._set_listening(False)

    async def invoke(self, method: str, arguments: list[Any]) -> bool:
        """Send ``method(arguments)`` on the open connection (no answer awaited); False when no
        connection is open or it ends while sending (the role's ``subscriptions`` of the next
        one must include it)."""
        client = self._open
        if client is None:
            return False
        try:
            await asyncio.wait_for(client.send(method, arguments), timeout=min(self.silence, _SEND_WAIT))
        except Exception as exc:  # the connection ended while sending (pysignalr's RuntimeError,
            # websockets' ConnectionClosed, a timeout): the next connection subscribes it
            logger.debug("ProjectX %s: %s not sent (%r)", self._role.name, method, exc)
            return False
        return True

    async def _connect_once(self) -> float:
        """One hub connection, until it ends; how long it listened (seconds)."""
        try:
            token = await asyncio.to_thread(self._session.token)
        except VenueError as exc:
            self.last_reason = f"no session token: {exc}"
            logger.warning("ProjectX %s: %s", self._role.name, self.last_reason)
            return 0.0
        self._closed = asyncio.Event()
        ping = max(1, int(self.silence / 2))
        client = _HeardClient(
            f"{self.hub_url}?access_token={token}",
            self._heard,
            ping_interval=ping,
            connection_timeout=max(1, int(self.silence)),
            retry_count=1,
            retry_sleep=self._initial,
        )
        self._role.register(client)
        client.on_open(lambda: self._opened(client))
        client.on_close(self._on_close)
        client.on_error(self._on_error)
        self.connections += 1
        started = self._monotonic()
        self._heard_at = started
        listened_at: float | None = None
        task = asyncio.get_running_loop().create_task(client.run(), name=f"projectx-{self._role.name}")
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
            self._open = None
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            lasted = 0.0 if listened_at is None else self._monotonic() - listened_at
            self._set_listening(False)
        self.last_reason = reason
        logger.warning("ProjectX %s connection %d ended: %s", self._role.name, self.connections, reason)
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
        self._open = client  # set before the role's subscriptions are read: see ``invoke``
        invocations = self._role.subscriptions()
        if not invocations:
            self._set_listening(True)
            return
        *first, (method, arguments) = invocations
        for name, args in first:
            await client.send(name, args)
        await client.send(method, arguments, on_invocation=self._subscribed)

    async def _subscribed(self, message: Message) -> None:
        """The hub answered the last subscription: it is alive and sends what we asked for."""
        error = getattr(message, "error", None)
        if error:
            logger.warning("ProjectX %s refused the subscriptions: %.300s", self._role.name, error)
            self._closed.set()
            return
        self._set_listening(True)

    async def _on_close(self) -> None:
        self._closed.set()
        self._set_listening(False)

    async def _on_error(self, message: CompletionMessage) -> None:
        logger.warning("ProjectX %s error: %.300s", self._role.name, message.error)

    def _set_listening(self, listening: bool) -> None:
        if listening != self._listening:
            self._listening = listening
            self._role.connected(listening)

    def statistics(self) -> HubStatistics:
        return HubStatistics(self._listening, self.connections, self.silent_drops, self.last_reason)

    def __repr__(self) -> str:
        state = "listening" if self._listening else "down"
        return f"HubSupervisor({self._role.name}, {self.hub_url}, {state}, connections={self.connections})"
