"""The ``trade_updates`` websocket: Alpaca's authenticate / listen handshake and in-order delivery.

Wire format, read from alpaca-py 0.44 ``alpaca/trading/stream.py`` and Alpaca's streaming docs:

1. the client sends ``{"action": "authenticate", "data": {"key_id": K, "secret_key": S}}``
   (a text frame; ``{"action": "auth", "key": K, "secret": S}`` is accepted too);
2. the server answers ``{"stream": "authorization", "data": {"status": "authorized",
   "action": "authenticate"}}`` (or ``"unauthorized"``, then closes the connection);
3. the client sends ``{"action": "listen", "data": {"streams": ["trade_updates"]}}`` and the
   server answers ``{"stream": "listening", "data": {"streams": ["trade_updates"]}}``;
4. every order event then arrives as ``{"stream": "trade_updates", "data": {...}}``.

Every server message is JSON in a *binary* frame, as on Alpaca's paper endpoint. Events are
delivered in publication order to each connection that is listening when they are published;
a connection that is not listening (or not connected) misses them for good: Alpaca does not
replay trade updates after a reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from starlette.websockets import WebSocket, WebSocketDisconnect

from tests.fakes.alpaca.faults import FaultPlan
from tests.fakes.alpaca.wire import authorization_message, encode, listening_message

__all__ = ["Credentials", "StreamHub", "StreamStatistics"]

logger = logging.getLogger(__name__)

AUTH_TIMEOUT = 10.0  # seconds a client has to authenticate after connecting
DROP_CLOSE_CODE = 1011
KNOWN_STREAMS = ("trade_updates",)


class Credentials(NamedTuple):
    key_id: str
    secret_key: str

    def accepts(self, key_id: object, secret_key: object) -> bool:
        return (
            isinstance(key_id, str)
            and isinstance(secret_key, str)
            and hmac.compare_digest(key_id, self.key_id)
            and hmac.compare_digest(secret_key, self.secret_key)
        )


class StreamStatistics(NamedTuple):
    connections: int  # accepted websocket connections, ever
    connected: int  # open now
    authorized: int  # successful authentications, ever
    refused: int  # refused authentications, ever
    sessions: int  # listen requests for trade_updates acknowledged, ever
    listening: int  # connections listening now
    dropped: int  # connections the fake closed on purpose (drop fault or slow consumer)
    messages_sent: int  # trade updates written to sockets


@dataclass(eq=False)
class _Connection:
    websocket: WebSocket
    # (payload, is_trade_update); None closes the connection after what was queued before it
    queue: asyncio.Queue[tuple[bytes, bool] | None]
    abort: asyncio.Event = field(default_factory=asyncio.Event)
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    listening: bool = False


class StreamHub:
    """Serves the stream endpoint; ``publish`` may be called from any thread."""

    def __init__(self, *, credentials: Credentials, faults: FaultPlan, max_queue: int = 10_000) -> None:
        self._credentials = credentials
        self._faults = faults
        self._max_queue = max_queue
        self._loop: asyncio.AbstractEventLoop | None = None
        self._flowing: asyncio.Event | None = None
        self._connections: set[_Connection] = set()
        self._changed = threading.Condition()
        self._counts = dict.fromkeys(StreamStatistics._fields, 0)

    def __repr__(self) -> str:
        return f"StreamHub({self.statistics()})"

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Called once on the server's loop before it serves."""
        self._loop = loop
        self._flowing = asyncio.Event()
        self._flowing.set()

    # -- any thread --------------------------------------------------------------------

    def publish(self, message: dict[str, Any]) -> None:
        """Queue a trade update for every listening connection, after everything published before."""
        if self._loop is None:
            return
        payload = encode(message)
        event = str(message["data"]["event"])
        try:
            self._loop.call_soon_threadsafe(self._fan_out, payload, event)
        except RuntimeError:
            pass  # the server has stopped: nobody is connected to miss it

    def drop_all(self, *, timeout: float = 5.0) -> int:
        """Close every connection now (close code 1011); returns how many were closed."""
        if self._loop is None:
            return 0
        return asyncio.run_coroutine_threadsafe(self._abort_all(timeout), self._loop).result(timeout + 1)

    def pause(self) -> None:
        """Hold trade updates (the socket stays open and silent) until ``resume``."""
        if self._loop is not None and self._flowing is not None:
            self._loop.call_soon_threadsafe(self._flowing.clear)

    def resume(self) -> None:
        if self._loop is not None and self._flowing is not None:
            self._loop.call_soon_threadsafe(self._flowing.set)

    def wait_for_listeners(self, count: int = 1, *, timeout: float = 5.0) -> bool:
        return self._wait(lambda c: c["listening"] >= count, timeout)

    def wait_for_sessions(self, total: int, *, timeout: float = 5.0) -> bool:
        """Wait until ``total`` listen requests were acknowledged since start (reconnects count)."""
        return self._wait(lambda c: c["sessions"] >= total, timeout)

    def statistics(self) -> StreamStatistics:
        with self._changed:
            return StreamStatistics(**self._counts)

    def _wait(self, predicate: Callable[[dict[str, int]], bool], timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self._counts), timeout)

    def _count(self, name: str, delta: int = 1) -> None:
        with self._changed:
            self._counts[name] += delta
            self._changed.notify_all()

    # -- the server's loop -------------------------------------------------------------

    def _fan_out(self, payload: bytes, event: str) -> None:
        listeners = [c for c in self._connections if c.listening]
        if not listeners:
            return
        drop_after = self._faults.take_drop_after(event)
        for connection in listeners:
            if connection.queue.qsize() >= self._max_queue - 1:
                logger.warning("stream client too slow (%d queued); dropping it", connection.queue.qsize())
                connection.abort.set()
                continue
            connection.queue.put_nowait((payload, True))
            if drop_after:
                connection.queue.put_nowait(None)

    async def _abort_all(self, timeout: float) -> int:
        connections = list(self._connections)
        for connection in connections:
            connection.abort.set()
        if connections:
            await asyncio.wait(
                [asyncio.ensure_future(c.finished.wait()) for c in connections], timeout=timeout
            )
        return len(connections)

    async def endpoint(self, websocket: WebSocket) -> None:
        await websocket.accept()
        connection = _Connection(websocket, asyncio.Queue(self._max_queue))
        self._connections.add(connection)
        self._count("connections")
        self._count("connected")
        try:
            if await self._authenticate(websocket):
                await self._serve(connection)
        except WebSocketDisconnect:
            pass  # the client went away; nothing to answer
        finally:
            connection.finished.set()
            self._connections.discard(connection)
            if connection.listening:
                self._count("listening", -1)
            self._count("connected", -1)

    async def _authenticate(self, websocket: WebSocket) -> bool:
        try:
            message = await asyncio.wait_for(_receive_json(websocket), AUTH_TIMEOUT)
        except TimeoutError:
            await websocket.close(code=1008)
            return False
        key_id, secret_key = _auth_fields(message)
        refused = self._faults.take_stream_auth_refusal()
        authorized = not refused and self._credentials.accepts(key_id, secret_key)
        await websocket.send_bytes(encode(authorization_message(authorized=authorized)))
        if not authorized:
            self._count("refused")
            await websocket.close(code=1008)
            return False
        self._count("authorized")
        return True

    async def _serve(self, connection: _Connection) -> None:
        reader = asyncio.ensure_future(self._read(connection))
        writer = asyncio.ensure_future(self._write(connection))
        aborted = asyncio.ensure_future(connection.abort.wait())
        done, pending = await asyncio.wait({reader, writer, aborted}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        failures = [t.exception() for t in done if not t.cancelled() and t.exception() is not None]
        for failure in failures:
            if not isinstance(failure, WebSocketDisconnect):
                logger.warning("stream connection ended by %r", failure)
        if aborted in done or (writer in done and not failures):
            # The fake ends this connection (drop fault, slow consumer) with a close frame.
            with contextlib.suppress(Exception):  # the client may have gone at the same moment
                await connection.websocket.close(code=DROP_CLOSE_CODE)
            self._count("dropped")

    async def _read(self, connection: _Connection) -> None:
        while True:
            message = await _receive_json(connection.websocket)
            if message.get("action") != "listen":
                continue
            data = message.get("data") or {}
            streams = [s for s in data.get("streams") or [] if s in KNOWN_STREAMS]
            was_listening, connection.listening = connection.listening, bool(streams)
            if connection.listening and not was_listening:
                self._count("listening")
                self._count("sessions")
            elif was_listening and not connection.listening:
                self._count("listening", -1)
            connection.queue.put_nowait((encode(listening_message(streams)), False))

    async def _write(self, connection: _Connection) -> None:
        assert self._flowing is not None
        while True:
            item = await connection.queue.get()
            if item is None:
                return
            payload, is_trade_update = item
            await self._flowing.wait()
            await connection.websocket.send_bytes(payload)
            if is_trade_update:
                self._count("messages_sent")


async def _receive_json(websocket: WebSocket) -> dict[str, Any]:
    """The next message, text or binary frame, as a JSON object (``{}`` when it is not one)."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    raw = message.get("text") if message.get("text") is not None else message.get("bytes")
    try:
        decoded = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return decoded if isinstance(decoded, dict) else {}


def _auth_fields(message: dict[str, Any]) -> tuple[object, object]:
    if message.get("action") == "authenticate":
        data = message.get("data") or {}
        return data.get("key_id"), data.get("secret_key")
    if message.get("action") == "auth":
        return message.get("key"), message.get("secret")
    return None, None
