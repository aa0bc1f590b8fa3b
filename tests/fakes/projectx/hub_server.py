"""``HubServer``: one realtime hub of the fake gateway (SignalR JSON protocol over websocket at
its path, with its negotiate endpoint); ``HubSpec`` says which hub (user_hub.py, market_hub.py).

What clients do, and what the fake answers (ASP.NET Core SignalR defaults; the gateway docs,
"Real Time Data Overview", give the hubs' URLs, ``access_token`` as a query parameter,
``skipNegotiation`` and the WebSockets transport in their examples):

* ``POST <path>/negotiate[?negotiateVersion=N]`` (clients that do not skip negotiation,
  such as pysignalr 1.3.3) answers ``connectionId`` (and ``connectionToken`` from version 1)
  and the WebSockets transport; the websocket then connects with ``?id=`` that value, once:
  an unknown or used id answers 404 "No Connection with that ID", as ASP.NET Core does;
* ``GET <path>`` upgraded to a websocket, without ``id`` when negotiation was skipped;
* the session token is read from the ``access_token`` query parameter, else from an
  ``Authorization: Bearer`` header (the query wins when both are sent: the usual ASP.NET Core
  set-up for hubs, inferred); a missing, unknown or expired token answers 401 before the
  upgrade. A token that expires while connected does not close the connection (ASP.NET
  Core's default; inferred);
* after the handshake, the hub pings every ``ping_interval`` seconds, answers invocations
  that carry an ``invocationId`` with a completion, takes the spec's subscribe and unsubscribe
  methods (one argument of the method's type, or none), and sends each event as an invocation
  ``{"type":1,"target":...,"arguments":[...]}`` to the connections subscribed to that kind of
  event for that key (an account id, a contract id; none for a kind subscribed without an
  argument). Subscriptions belong to a connection: a client that reconnects must subscribe
  again, and nothing missed is replayed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from tests.fakes.projectx.faults import FaultPlan
from tests.fakes.projectx.sessions import SessionTokens, TokenState
from tests.fakes.projectx.signalr import (
    PING,
    MessageType,
    RecordReader,
    close_message,
    completion,
    encode,
    invocation,
)

__all__ = [
    "DenialLogFilter",
    "HubConnectionRecord",
    "HubInvocation",
    "HubMethod",
    "HubServer",
    "HubSpec",
    "HubStatistics",
]

logger = logging.getLogger(__name__)

HANDSHAKE_TIMEOUT = 15.0  # ASP.NET Core's HubOptions.HandshakeTimeout default
DROP_CLOSE_CODE = 1011
NORMAL_CLOSE_CODE = 1000

Key = int | str | None  # what a subscription is for: an account id, a contract id, or nothing
Subscription = tuple[str, Key]  # (kind, key)


class HubMethod(NamedTuple):
    """A hub method a client invokes: it subscribes to (or unsubscribes from) ``kind`` for its
    one argument of type ``argument`` (None: the method takes no argument)."""

    kind: str
    argument: type | None
    subscribe: bool


@dataclass(frozen=True)
class HubSpec:
    """One hub: its path, its methods (by lower-case name: SignalR resolves hub methods
    case-insensitively) and the kind of subscription each event target goes to."""

    path: str
    methods: dict[str, HubMethod]
    events: dict[str, str]  # event target -> subscription kind

    def keyed(self, kind: str) -> bool:
        """Whether subscriptions of ``kind`` are for a key (an account, a contract)."""
        return any(m.kind == kind and m.argument is not None for m in self.methods.values())


class DenialLogFilter(logging.Filter):
    """uvicorn 0.54's sans-IO websocket protocol logs "ASGI callable returned without completing
    handshake." at ERROR after an app answered the upgrade with an HTTP response (the ASGI
    denial-response extension it advertises): the 401 and 404 the hub gives on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "ASGI callable returned without completing handshake."


class HubStatistics(NamedTuple):
    negotiations: int  # negotiate requests answered 200
    connections: int  # websockets accepted, ever
    handshakes: int  # handshakes completed, ever
    connected: int  # open (handshake done) now
    refused: int  # negotiations or connections refused (401, 404, planned refusals)
    invocations: int  # client invocations received
    events_sent: int  # event invocations written to sockets
    pings_sent: int
    dropped: int  # connections the fake closed on purpose


class HubInvocation(NamedTuple):
    connection_id: str
    target: str
    arguments: list[Any]
    invocation_id: str | None
    accepted: bool


class HubConnectionRecord(NamedTuple):
    connection_id: str
    token_id: str | None  # jti of the session token the connection presented
    negotiated: bool  # connected with an id from /negotiate (False: negotiation skipped)


@dataclass(eq=False)
class _Connection:
    id: str
    websocket: WebSocket
    queue: asyncio.Queue[str | int]  # an int closes the socket with that code, after what came before
    subscriptions: set[Subscription] = field(default_factory=set)
    abort: asyncio.Event = field(default_factory=asyncio.Event)
    finished: asyncio.Event = field(default_factory=asyncio.Event)


def _token(headers: Any, query: Any) -> str | None:
    token = query.get("access_token")
    if token:
        return str(token)
    authorization = headers.get("authorization", "")
    scheme, _, value = authorization.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


class HubServer:
    """Serves one hub; ``publish`` may be called from any thread."""

    def __init__(
        self,
        spec: HubSpec,
        *,
        tokens: SessionTokens,
        faults: FaultPlan,
        ping_interval: float = 15.0,
        max_queue: int = 10_000,
    ) -> None:
        self.spec = spec
        self._tokens = tokens
        self._faults = faults
        self._ping_interval = ping_interval
        self._max_queue = max_queue
        self._loop: asyncio.AbstractEventLoop | None = None
        self._flowing: asyncio.Event | None = None
        self._connections: set[_Connection] = set()
        self._pending: dict[str, str] = {}  # id the websocket must present -> connection id
        self._changed = threading.Condition()
        self._counts = dict.fromkeys(HubStatistics._fields, 0)
        self._subscribers: dict[Subscription, int] = {}
        self._invocations: list[HubInvocation] = []
        self._connection_log: list[HubConnectionRecord] = []

    def __repr__(self) -> str:
        return f"HubServer({self.spec.path}, {self.statistics()})"

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Called once on the server's loop before it serves."""
        self._loop = loop
        self._flowing = asyncio.Event()
        self._flowing.set()

    def routes(self) -> list[BaseRoute]:
        return [
            Route(f"{self.spec.path}/negotiate", self._negotiate, methods=["POST"]),
            WebSocketRoute(self.spec.path, self._endpoint),
        ]

    # -- any thread --------------------------------------------------------------------

    def publish(self, target: str, key: Key, arguments: list[Any], subject: dict[str, Any]) -> None:
        """Queue the event ``target(arguments)`` for every connection subscribed to its kind for
        ``key``, after everything published before; ``subject`` is what a planned drop tests."""
        if self._loop is None:
            return
        text = encode(invocation(target, arguments))
        try:
            self._loop.call_soon_threadsafe(self._fan_out, target, key, text, subject)
        except RuntimeError:
            pass  # the server has stopped: nobody is connected to miss it

    def drop_all(self, *, timeout: float = 5.0) -> int:
        """Close every connection now (websocket close 1011, no SignalR close message)."""
        return self._run(self._end_all(None, timeout), timeout)

    def close_all(
        self, *, error: str | None = None, allow_reconnect: bool | None = None, timeout: float = 5.0
    ) -> int:
        """Send a SignalR close message (type 7) to every connection, then close them."""
        return self._run(self._end_all(encode(close_message(error, allow_reconnect)), timeout), timeout)

    def pause(self) -> None:
        """Hold events and pings (the sockets stay open and silent) until ``resume``."""
        if self._loop is not None and self._flowing is not None:
            self._loop.call_soon_threadsafe(self._flowing.clear)

    def resume(self) -> None:
        if self._loop is not None and self._flowing is not None:
            self._loop.call_soon_threadsafe(self._flowing.set)

    def statistics(self) -> HubStatistics:
        with self._changed:
            return HubStatistics(**self._counts)

    def subscribers(self, kind: str, key: Key = None) -> int:
        """Open connections subscribed to ``kind`` for ``key`` now."""
        with self._changed:
            return self._subscribers.get((kind, key), 0)

    def invocations(self) -> list[HubInvocation]:
        with self._changed:
            return list(self._invocations)

    def connection_log(self) -> list[HubConnectionRecord]:
        with self._changed:
            return list(self._connection_log)

    def wait_for(self, predicate: Callable[[HubServer], bool], timeout: float = 5.0) -> bool:
        """Wait until ``predicate(hub)`` holds (checked whenever the hub's counts change)."""
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self), timeout)

    def _run(self, coroutine: Any, timeout: float) -> int:
        if self._loop is None or self._loop.is_closed():
            coroutine.close()  # not served (yet, or any more): nobody is connected
            return 0
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout + 1)

    def _count(self, name: str, delta: int = 1) -> None:
        with self._changed:
            self._counts[name] += delta
            self._changed.notify_all()

    def _subscribe(self, connection: _Connection, subscription: Subscription, on: bool) -> None:
        with self._changed:
            if on and subscription not in connection.subscriptions:
                connection.subscriptions.add(subscription)
                self._subscribers[subscription] = self._subscribers.get(subscription, 0) + 1
            elif not on and subscription in connection.subscriptions:
                connection.subscriptions.discard(subscription)
                self._subscribers[subscription] -= 1
            self._changed.notify_all()

    # -- the server's loop -------------------------------------------------------------

    async def _negotiate(self, request: Request) -> Response:
        refusal = self._refusal(_token(request.headers, request.query_params))
        if refusal is not None:
            self._count("refused")
            return refusal
        version = 1 if request.query_params.get("negotiateVersion", "0") not in ("", "0") else 0
        connection_id = secrets.token_urlsafe(16)
        body: dict[str, Any] = {
            "connectionId": connection_id,
            "negotiateVersion": version,
            "availableTransports": [{"transport": "WebSockets", "transferFormats": ["Text", "Binary"]}],
        }
        if version:
            body["connectionToken"] = secrets.token_urlsafe(16)
        self._pending[body.get("connectionToken", connection_id)] = connection_id
        self._count("negotiations")
        return JSONResponse(body)

    def _refusal(self, token: str | None) -> Response | None:
        status = self._faults.take_hub_refusal()
        if status is not None:
            return Response(status_code=status)
        if self._tokens.state(token) is not TokenState.VALID:
            return Response(status_code=401)
        return None

    async def _endpoint(self, websocket: WebSocket) -> None:
        token = _token(websocket.headers, websocket.query_params)
        refusal = self._refusal(token)
        wanted = websocket.query_params.get("id")
        if refusal is None and wanted is not None and wanted not in self._pending:
            refusal = PlainTextResponse("No Connection with that ID", status_code=404)
        if refusal is not None:
            self._count("refused")
            await websocket.send_denial_response(refusal)
            return
        connection_id = self._pending.pop(wanted) if wanted is not None else secrets.token_urlsafe(16)
        with self._changed:
            self._connection_log.append(
                HubConnectionRecord(connection_id, self._tokens.token_id(token), wanted is not None)
            )
        await websocket.accept()
        self._count("connections")
        connection = _Connection(connection_id, websocket, asyncio.Queue(self._max_queue))
        try:
            reader = RecordReader()
            if await self._handshake(websocket, reader):
                await self._serve(connection, reader)
        except WebSocketDisconnect:
            pass  # the client went away; nothing to answer
        finally:
            connection.finished.set()
            if connection in self._connections:
                self._connections.discard(connection)
                self._count("connected", -1)
            for subscription in list(connection.subscriptions):
                self._subscribe(connection, subscription, False)

    async def _handshake(self, websocket: WebSocket, reader: RecordReader) -> bool:
        try:
            records = await asyncio.wait_for(self._first_records(websocket, reader), HANDSHAKE_TIMEOUT)
        except TimeoutError:
            await websocket.close(code=1000)
            return False
        request = records[0]
        error = None
        if not isinstance(request, dict) or request.get("protocol") != "json":
            protocol = request.get("protocol") if isinstance(request, dict) else None
            error = f"The protocol '{protocol}' is not supported."
        elif request.get("version") != 1:
            error = f"The server does not support version {request.get('version')} of the 'json' protocol."
        if error is not None:
            await websocket.send_text(encode({"error": error}))
            await websocket.close(code=1000)
            return False
        await websocket.send_text(encode({}))
        self._count("handshakes")
        return True

    @staticmethod
    async def _first_records(websocket: WebSocket, reader: RecordReader) -> list[Any]:
        while True:
            records = reader.feed(await _receive_text(websocket))
            if records:
                return records

    async def _serve(self, connection: _Connection, reader: RecordReader) -> None:
        self._connections.add(connection)
        self._count("connected")
        writer = asyncio.ensure_future(self._write(connection))
        aborted = asyncio.ensure_future(connection.abort.wait())
        tasks = {
            asyncio.ensure_future(self._read(connection, reader)),
            writer,
            asyncio.ensure_future(self._ping(connection)),
            aborted,
        }
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            failure = None if task.cancelled() else task.exception()
            if failure is not None and not isinstance(failure, WebSocketDisconnect):
                logger.warning("hub connection ended by %r", failure)
        close_code = None
        if aborted in done:
            close_code = DROP_CLOSE_CODE
        elif writer in done and not writer.cancelled() and writer.exception() is None:
            close_code = writer.result()
        if close_code is not None:
            # The fake ends this connection (a drop, a close message, a slow consumer).
            with contextlib.suppress(Exception):  # the client may have gone at the same moment
                await connection.websocket.close(code=close_code)
            self._count("dropped")

    async def _read(self, connection: _Connection, reader: RecordReader) -> None:
        while True:
            for message in reader.feed(await _receive_text(connection.websocket)):
                if not isinstance(message, dict):
                    continue
                kind = message.get("type")
                if kind == MessageType.INVOCATION:
                    self._invoke(connection, message)
                elif kind == MessageType.CLOSE:
                    raise WebSocketDisconnect(1000)

    def _invoke(self, connection: _Connection, message: dict[str, Any]) -> None:
        target = str(message.get("target"))
        arguments = message.get("arguments")
        arguments = arguments if isinstance(arguments, list) else []
        invocation_id = message.get("invocationId")
        method = self.spec.methods.get(target.lower())
        error = None
        if method is None:
            error = f"Unknown hub method '{target}'"
        elif not _arguments_fit(method, arguments):
            error = f"Failed to invoke '{target}' due to an error on the server."
        else:
            key = arguments[0] if method.argument is not None else None
            self._subscribe(connection, (method.kind, key), method.subscribe)
        with self._changed:
            self._invocations.append(
                HubInvocation(connection.id, target, list(arguments), invocation_id, error is None)
            )
        self._count("invocations")
        if invocation_id is not None:
            connection.queue.put_nowait(encode(completion(str(invocation_id), error=error)))

    async def _write(self, connection: _Connection) -> int:
        """Sends what is queued; returns the close code when one is queued."""
        assert self._flowing is not None
        while True:
            text = await connection.queue.get()
            if isinstance(text, int):
                return text
            await self._flowing.wait()
            await connection.websocket.send_text(text)
            if text.startswith('{"type":1,'):
                self._count("events_sent")

    async def _ping(self, connection: _Connection) -> None:
        assert self._flowing is not None
        ping = encode(PING)
        while True:
            await asyncio.sleep(self._ping_interval)
            await self._flowing.wait()
            await connection.websocket.send_text(ping)
            self._count("pings_sent")

    def _fan_out(self, target: str, key: Key, text: str, subject: dict[str, Any]) -> None:
        kind = self.spec.events[target]
        subscription: Subscription = (kind, key if self.spec.keyed(kind) else None)
        listeners = [c for c in self._connections if subscription in c.subscriptions]
        if not listeners:
            return
        drop_after = self._faults.take_drop_after(target, subject)
        for connection in listeners:
            if connection.queue.qsize() >= self._max_queue - 1:
                logger.warning("hub client too slow (%d queued); dropping it", connection.queue.qsize())
                connection.abort.set()
                continue
            connection.queue.put_nowait(text)
            if drop_after:
                connection.queue.put_nowait(DROP_CLOSE_CODE)

    async def _end_all(self, farewell: str | None, timeout: float) -> int:
        connections = list(self._connections)
        for connection in connections:
            if farewell is None:
                connection.abort.set()
            else:
                connection.queue.put_nowait(farewell)
                connection.queue.put_nowait(NORMAL_CLOSE_CODE)
        if connections:
            await asyncio.wait(
                [asyncio.ensure_future(c.finished.wait()) for c in connections], timeout=timeout
            )
        return len(connections)


def _arguments_fit(method: HubMethod, arguments: list[Any]) -> bool:
    if method.argument is None:
        return not arguments
    if len(arguments) != 1 or isinstance(arguments[0], bool):
        return False
    return isinstance(arguments[0], method.argument)


async def _receive_text(websocket: WebSocket) -> str:
    """The next frame as text (a binary frame is decoded as UTF-8)."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    if message.get("text") is not None:
        return str(message["text"])
    return bytes(message.get("bytes") or b"").decode("utf-8", errors="replace")
