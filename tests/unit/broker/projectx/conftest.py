"""Fixtures: a FakeProjectX gateway, the adapter (aiohttp + pysignalr for real) built through the
registry as the desk builds it, a real SQLite journal, and a harness that starts the broker on
the test's event loop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.projectx import FakeProjectX
from trading.broker.projectx import API_KEY_VARIABLE, USER_NAME_VARIABLE, ProjectXSettings
from trading.broker.registry import BrokerContext, broker_kind
from trading.broker.venue import VenueBroker
from trading.bus import EventBus
from trading.clock import LiveClock
from trading.model import Event, Instrument
from trading.risk import RiskManager, parse_risk_config
from trading.storage import AuditRepository, Database, Journal, RiskRepository

EVAL = "50KTC-V2-FAKE-EVAL"
LIVE = "LIVE-FAKE-FUNDED"
ES = Instrument(symbol="ES", tick_size=0.25, multiplier=50, commission=1.40)
MES = Instrument(symbol="MES", tick_size=0.25, multiplier=5, commission=0.37)

# Fast settings for tests: short polls, backoffs, blindness limit and hub watchdog.
FAST: dict[str, Any] = {
    "poll_interval": 0.3,
    "blind_after": 1.0,
    "request_timeout": 2.0,
    "request_attempts": 4,
    "retry_initial": 0.02,
    "retry_max": 0.2,
    "flatten_settle": 1.0,
    "hub_silence": 1.0,
}


class Recorder:
    def __init__(self, bus: EventBus) -> None:
        self.events: list[Event] = []
        bus.subscribe(Event, self.events.append)

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


class Harness:
    """One desk's broker side: bus, clock, journal, the ProjectX adapter (built through the
    registry) and, when asked, a risk manager on the same bus."""

    def __init__(self, fake: FakeProjectX, db: Database, *, consent: bool = False, **settings: Any) -> None:
        """``consent``: the process was started with --allow-live."""
        self.fake = fake
        self.db = db
        self.bus = EventBus()
        self.clock = LiveClock()
        self.recorder = Recorder(self.bus)
        self.journal = Journal(db, account="projectx")
        self.audit = AuditRepository(db)
        merged = {
            **FAST,
            "account": EVAL,
            "api_url": fake.base_url,
            "hub_url": fake.user_hub_url,
            **settings,
        }
        self.settings = ProjectXSettings(**merged)
        context = BrokerContext(
            bus=self.bus,
            clock=self.clock,
            instruments=(ES, MES),
            journal=self.journal,
            history=self.journal.reader,
            audit=self.audit,
            environ={USER_NAME_VARIABLE: fake.user_name, API_KEY_VARIABLE: fake.api_key},
            allow_live=consent,
        )
        self.broker: VenueBroker = broker_kind("projectx").build(self.settings, context)
        self.account_id = fake.account_id(str(merged["account"]))
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
            account="projectx",
        )
        self.risk.start()
        return self.risk

    def open(self) -> None:
        self.broker.open(self.journal.load())
        self.opened = True

    async def start(self) -> None:
        if not self.opened:
            self.open()
        await self.broker.start()
        await self.wait_for(
            lambda: self.broker.status()["connected"] and not self.broker.status()["resync_due"],
            what="the hub to listen and the books to be reconciled",
        )
        assert self.fake.wait_for_subscription("trades", self.account_id, timeout=5)

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
def fake() -> Iterator[FakeProjectX]:
    with FakeProjectX(ping_interval=0.2) as server:
        yield server


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "desk.db")
    yield database
    database.close()


@pytest.fixture
async def harness(fake: FakeProjectX, db: Database) -> AsyncIterator[Harness]:
    made = Harness(fake, db)
    yield made
    if not made.stopped:
        await made.stop()


@pytest.fixture
async def make_harness(fake: FakeProjectX, db: Database) -> AsyncIterator[Callable[..., Harness]]:
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
