"""Fixtures: a started FakeProjectX, the chosen clients against it (aiohttp for REST, pysignalr
for the user hub), both running on the test's own event loop as the desk's adapter will."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import aiohttp
import pytest
from pysignalr.client import SignalRClient
from pysignalr.messages import CompletionMessage

from tests.fakes.projectx import FakeProjectX

EVAL = "50KTC-V2-FAKE-EVAL"
LIVE = "LIVE-FAKE-FUNDED"


@pytest.fixture
def fake() -> Iterator[FakeProjectX]:
    with FakeProjectX(ping_interval=0.2) as server:
        yield server


@pytest.fixture
def account(fake: FakeProjectX) -> int:
    return fake.account_id(EVAL)


class Gateway:
    """The REST calls as the adapter makes them: one aiohttp session, JSON bodies, a bearer token."""

    def __init__(self, session: aiohttp.ClientSession, fake: FakeProjectX) -> None:
        self.session = session
        self.fake = fake
        self.token: str | None = None

    async def call(
        self, path: str, body: dict[str, Any] | None = None, *, token: str | None = None
    ) -> tuple[int, Any]:
        """(status, parsed JSON or None for an empty body)."""
        bearer = token if token is not None else self.token
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
        async with self.session.post(path, json=body, headers=headers) as response:
            text = await response.text()
            return response.status, (await response.json(content_type=None)) if text else None

    async def ok(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """A call that must succeed (HTTP 200 and ``success: true``); its body."""
        status, answer = await self.call(path, body)
        assert status == 200 and answer["success"] is True, (path, status, answer)
        return answer

    async def refused(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """A call the platform must refuse with HTTP 200 and ``success: false``; its body."""
        status, answer = await self.call(path, body)
        assert status == 200 and answer["success"] is False, (path, status, answer)
        return answer

    async def login(self) -> str:
        answer = await self.ok(
            "/api/Auth/loginKey", {"userName": self.fake.user_name, "apiKey": self.fake.api_key}
        )
        self.token = answer["token"]
        return answer["token"]

    async def place(self, account_id: int, contract: str, side: int, size: int, **fields: Any) -> int:
        body = {
            "accountId": account_id,
            "contractId": self.fake.contract(contract).id,
            "side": side,
            "size": size,
        }
        body.setdefault("type", 2)
        body.update(fields)
        return int((await self.ok("/api/Order/place", body))["orderId"])


@contextlib.asynccontextmanager
async def logged_in(fake: FakeProjectX) -> AsyncIterator[Gateway]:
    async with aiohttp.ClientSession(base_url=fake.base_url) as session:
        rest = Gateway(session, fake)
        await rest.login()
        yield rest


@pytest.fixture
async def gateway(fake: FakeProjectX) -> AsyncIterator[Gateway]:
    async with logged_in(fake) as rest:
        yield rest


class HubRecorder:
    """A real pysignalr ``SignalRClient`` on the test's loop that subscribes on every open and
    keeps every user-hub event it received as (target, payload)."""

    TARGETS = ("GatewayUserAccount", "GatewayUserOrder", "GatewayUserPosition", "GatewayUserTrade")

    def __init__(
        self, url: str, token: str, subscriptions: list[tuple[str, list[Any]]], **client_options: Any
    ) -> None:
        self.client = SignalRClient(f"{url}?access_token={token}", **client_options)
        self.subscriptions = subscriptions
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.errors: list[CompletionMessage] = []
        self.opened = 0
        self.closed = 0
        self.task: asyncio.Task[None] | None = None
        for target in self.TARGETS:
            self.client.on(target, self._keeper(target))
        self.client.on_open(self._on_open)
        self.client.on_close(self._on_close)
        self.client.on_error(self._on_error)

    def _keeper(self, target: str) -> Callable[[list[Any]], Any]:
        async def keep(arguments: list[Any]) -> None:
            self.received.append((target, arguments[0]))

        return keep

    async def _on_open(self) -> None:
        self.opened += 1
        for method, arguments in self.subscriptions:
            await self.client.send(method, arguments)

    async def _on_close(self) -> None:
        self.closed += 1

    async def _on_error(self, message: CompletionMessage) -> None:
        self.errors.append(message)

    def start(self) -> HubRecorder:
        self.task = asyncio.create_task(self.client.run())
        return self

    async def stop(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()
        if self.task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):  # run() may have failed: see tests
                await self.task
            # The cancelled websocket's transport closes on a later turn of the loop (its
            # connection_lost is scheduled, not run): let it, or the test's loop ends first and
            # the socket is reported unclosed in whichever test the garbage collector runs next.
            await asyncio.sleep(0.05)

    def targets(self) -> list[str]:
        return [target for target, _ in self.received]

    def data(self, target: str) -> list[dict[str, Any]]:
        return [payload["data"] for name, payload in self.received if name == target]

    async def wait_for(self, predicate: Callable[[HubRecorder], bool], timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while not predicate(self):
                if self.task is not None and self.task.done():
                    raise AssertionError(f"the hub client stopped: {self.task!r}; got {self.targets()}")
                await asyncio.sleep(0.01)

    async def wait_for_count(self, count: int, timeout: float = 5.0) -> list[tuple[str, dict[str, Any]]]:
        await self.wait_for(lambda hub: len(hub.received) >= count, timeout)
        return list(self.received)


def token_id(token: str) -> str:
    """The ``jti`` claim of a session token (what the fake's logs keep instead of the token)."""
    payload = token.split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["jti"])


def user_subscriptions(account_id: int) -> list[tuple[str, list[Any]]]:
    return [
        ("SubscribeAccounts", []),
        ("SubscribeOrders", [account_id]),
        ("SubscribePositions", [account_id]),
        ("SubscribeTrades", [account_id]),
    ]


async def invoked(fake: FakeProjectX, count: int) -> None:
    """Wait (off the loop) until the hub has received ``count`` client invocations in all: after a
    reconnect, the new connection's subscriptions are in place once the count has grown by four."""
    assert await asyncio.to_thread(fake.wait_for_hub, lambda hub: len(hub.invocations()) >= count), (
        f"the hub client did not subscribe again: {fake.hub_invocations()}"
    )


async def subscribed(fake: FakeProjectX, account_id: int) -> None:
    """Wait (off the loop) until the hub holds all four subscriptions of one connection."""
    ready = await asyncio.to_thread(
        fake.wait_for_hub,
        lambda hub: (
            all(hub.subscribers(kind, account_id) for kind in ("orders", "positions", "trades"))
            and hub.subscribers("accounts") > 0
        ),
    )
    assert ready, f"the hub client did not subscribe: {fake.hub_invocations()}"


@pytest.fixture
async def hub(fake: FakeProjectX, gateway: Gateway, account: int) -> AsyncIterator[HubRecorder]:
    assert gateway.token is not None
    recorder = HubRecorder(fake.user_hub_url, gateway.token, user_subscriptions(account)).start()
    await subscribed(fake, account)
    yield recorder
    await recorder.stop()
