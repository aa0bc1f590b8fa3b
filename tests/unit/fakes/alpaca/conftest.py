"""Fixtures: a started FakeAlpaca, the real alpaca-py TradingClient against it, and a real
TradingStream running in its own thread with what it received."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Iterator

import pytest

with warnings.catch_warnings():
    # alpaca-py 0.44's ``alpaca.trading`` package imports ``websockets.legacy`` (deprecated in
    # websockets 14) when it loads its stream module; the SDK is what it is, so import it once here.
    warnings.filterwarnings("ignore", "websockets.legacy is deprecated", DeprecationWarning)
    from alpaca.trading.stream import TradingStream

from alpaca.trading.client import TradingClient
from alpaca.trading.models import TradeUpdate

from tests.fakes.alpaca import FakeAlpaca


@pytest.fixture
def fake() -> Iterator[FakeAlpaca]:
    with FakeAlpaca() as server:
        yield server


@pytest.fixture
def client(fake: FakeAlpaca) -> TradingClient:
    return TradingClient(fake.key_id, fake.secret_key, paper=True, url_override=fake.base_url)


@pytest.fixture
def fast_retry_client(client: TradingClient) -> TradingClient:
    """The SDK sleeps a fixed 3 s between retries of a 429 / 504 and ``TradingClient`` does not
    pass retry settings on to ``RESTClient``; the attribute is the only knob. Attempts stay 1 + 3."""
    client._retry_wait = 0
    return client


class StreamRecorder:
    """A real ``TradingStream`` on a thread, keeping every ``TradeUpdate`` it dispatched."""

    def __init__(self, fake: FakeAlpaca, *, secret_key: str | None = None) -> None:
        self._stream = TradingStream(
            fake.key_id, secret_key or fake.secret_key, paper=True, url_override=fake.stream_url
        )
        self._stream.subscribe_trade_updates(self._on_update)
        self._updates: list[TradeUpdate] = []
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._stream.run, name="sdk-trading-stream", daemon=True)
        self._fake = fake

    async def _on_update(self, update: TradeUpdate) -> None:
        with self._changed:
            self._updates.append(update)
            self._changed.notify_all()

    def start(self) -> StreamRecorder:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._stream._loop is not None:
            self._stream.stop()
        self._fake.drop_stream()  # ends the SDK's 5 s receive wait at once
        self._thread.join(10)
        assert not self._thread.is_alive(), "the SDK stream thread did not stop"

    @property
    def updates(self) -> list[TradeUpdate]:
        with self._changed:
            return list(self._updates)

    def names(self) -> list[str]:
        """The event of every update received, in order. ``TradeUpdate.event`` is typed
        ``Union[TradeEvent, str]`` and pydantic keeps the plain ``str`` the JSON carries."""
        return [u.event if isinstance(u.event, str) else u.event.value for u in self.updates]

    def events(self) -> list[tuple[str, str]]:
        """(event, client_order_id) of every update received, in order."""
        updates = self.updates
        return list(zip(self.names(), (u.order.client_order_id for u in updates), strict=True))

    def wait_for(
        self, predicate: Callable[[list[TradeUpdate]], bool], timeout: float = 5.0
    ) -> list[TradeUpdate]:
        with self._changed:
            if not self._changed.wait_for(lambda: predicate(self._updates), timeout):
                raise AssertionError(f"stream updates did not arrive; got {[u.event for u in self._updates]}")
            return list(self._updates)

    def wait_for_count(self, count: int, timeout: float = 5.0) -> list[TradeUpdate]:
        return self.wait_for(lambda updates: len(updates) >= count, timeout)


@pytest.fixture
def stream(fake: FakeAlpaca) -> Iterator[StreamRecorder]:
    sessions = fake.stream_statistics().sessions
    recorder = StreamRecorder(fake).start()
    assert fake.wait_for_sessions(sessions + 1), "the SDK stream did not start listening"
    yield recorder
    recorder.stop()
