"""Fixtures: a FakeAlpaca server, the real alpaca-py SDK driven by the adapter against it, a
real SQLite journal, and a harness that starts the broker on the test's event loop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.alpaca import FakeAlpaca
from trading.broker.alpaca.config import KEY_ID_VARIABLE, SECRET_KEY_VARIABLE, AlpacaSettings
from trading.broker.registry import BrokerContext, broker_kind
from trading.broker.venue import VenueBroker
from trading.bus import EventBus
from trading.clock import LiveClock
from trading.model import Event, Instrument
from trading.risk import RiskManager, parse_risk_config
from trading.storage import AuditRepository, Database, Journal, RiskRepository

AAPL = Instrument(symbol="AAPL", tick_size=0.01, multiplier=1, commission=0.0, asset_class="STOCK")

# Fast settings for tests: short polls, backoffs and blindness limit.
FAST: dict[str, Any] = {
    "poll_interval": 0.3,
    "blind_after": 1.0,
    "request_timeout": 2.0,
    "request_attempts": 4,
    "retry_initial": 0.02,
    "retry_max": 0.2,
    "flatten_settle": 1.0,
}


class Recorder:
    def __init__(self, bus: EventBus) -> None:
        self.events: list[Event] = []
        bus.subscribe(Event, self.events.append)

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    def names(self, *kinds: type) -> list[str]:
        return [type(e).__name__ for e in self.events if not kinds or isinstance(e, kinds)]


class Harness:
    """One desk's broker side: bus, clock, journal, the Alpaca adapter (built through the
    registry, as the desk builds it) and, when asked, a risk manager on the same bus."""

    def __init__(self, fake: FakeAlpaca, db: Database, **settings: Any) -> None:
        self.fake = fake
        self.db = db
        self.bus = EventBus()
        self.clock = LiveClock()
        self.recorder = Recorder(self.bus)
        self.journal = Journal(db, account="alpaca")
        self.audit = AuditRepository(db)
        merged = {**FAST, "url": fake.base_url, "stream_url": fake.stream_url, **settings}
        self.settings = AlpacaSettings(**merged)
        context = BrokerContext(
            bus=self.bus,
            clock=self.clock,
            instruments=(AAPL,),
            journal=self.journal,
            history=self.journal.reader,
            audit=self.audit,
            environ={KEY_ID_VARIABLE: fake.key_id, SECRET_KEY_VARIABLE: fake.secret_key},
        )
        self.broker: VenueBroker = broker_kind("alpaca").build(self.settings, context)
        self.risk: RiskManager | None = None
        self.stopped = False
        self.opened = False

    def with_risk(self, rules: dict[str, Any]) -> RiskManager:
        self.risk = RiskManager(
            self.bus,
            self.broker,
            self.clock,
            parse_risk_config({"rules": rules, "allow_no_enforced_rules": True}),
            store=RiskRepository(self.db),
            fills=self.journal.reader,
            account="alpaca",
        )
        self.risk.start()
        return self.risk

    def open(self) -> None:
        """The desk's build step: books from the journal, reconciled with the venue (blocking)."""
        self.broker.open(self.journal.load())
        self.opened = True

    async def start(self) -> None:
        if not self.opened:
            self.open()
        await self.broker.start()
        await self.wait_for(
            lambda: self.broker.status()["connected"] and not self.broker.status()["resync_due"],
            what="the stream to listen and the books to be reconciled",
        )

    async def stop(self) -> None:
        self.stopped = True
        await self.broker.stop()
        if self.risk is not None:
            self.risk.stop()
        self.journal.close()

    async def wait_for(self, predicate: Callable[[], Any], *, timeout: float = 5.0, what: str = "") -> Any:
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() >= deadline:
                raise AssertionError(f"timed out waiting for {what or predicate}")
            await asyncio.sleep(0.01)


@pytest.fixture
def fake() -> Iterator[FakeAlpaca]:
    with FakeAlpaca() as server:
        yield server


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "desk.db")
    yield database
    database.close()


@pytest.fixture
async def harness(fake: FakeAlpaca, db: Database) -> AsyncIterator[Harness]:
    made = Harness(fake, db)
    yield made
    await made.stop()


@pytest.fixture
async def make_harness(fake: FakeAlpaca, db: Database) -> AsyncIterator[Callable[..., Harness]]:
    """Several harnesses on one server and database (a restart); each stopped at the end."""
    made: list[Harness] = []

    def build(**settings: Any) -> Harness:
        harness = Harness(fake, db, **settings)
        made.append(harness)
        return harness

    yield build
    for harness in made:
        if not harness.stopped:
            await harness.stop()
