"""Market data feeds: a seeded random walk and a CSV replay, both producing ``MarketDataUpdated``.

Both offer the same ways in: ``next_ticks(n)`` for a loop that drives time itself (a desk
on a ``TestClock`` advancing per tick), and ``stream()``, an async iterator paced in real
time. ``SimulatedFeed.step(now)`` returns every tick due on its schedule up to ``now``.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections.abc import AsyncIterator, Generator, Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from trading.broker._csv import read_csv_ticks
from trading.clock import Clock
from trading.config_types import LocalTime, Number, TimeZoneName, Whole
from trading.model import MarketDataUpdated

__all__ = [
    "CsvReplayConfig",
    "CsvReplayFeed",
    "FeedStatistics",
    "SessionConfig",
    "SimulatedFeed",
    "SimulatedFeedConfig",
    "SimulatedSymbolConfig",
]

logger = logging.getLogger(__name__)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SessionConfig(_Frozen):
    """Trading hours in a time zone. ``open`` after ``close`` is an overnight session (futures:
    17:00 to 16:00 Chicago); ``weekdays`` are the days a session *opens* (Monday is 0)."""

    timezone: TimeZoneName = "America/Chicago"
    open: LocalTime = time(8, 30)
    close: LocalTime = time(15, 0)
    weekdays: tuple[Whole, ...] = Field((0, 1, 2, 3, 4), min_length=1)

    @field_validator("weekdays")
    @classmethod
    def _valid_days(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        bad = [d for d in value if not 0 <= d <= 6]
        if bad:
            raise ValueError(f"weekdays must be 0 (Monday) to 6 (Sunday), got {bad}")
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> SessionConfig:
        if self.open == self.close:
            raise ValueError(f"session open and close are both {self.open}: the session would be empty")
        return self

    def is_open(self, when: datetime) -> bool:
        local = when.astimezone(ZoneInfo(self.timezone))
        t, day = local.time(), local.weekday()
        if self.open < self.close:
            return day in self.weekdays and self.open <= t < self.close
        if t >= self.open:
            return day in self.weekdays
        return t < self.close and (day - 1) % 7 in self.weekdays


class SimulatedSymbolConfig(_Frozen):
    """One symbol's random walk: ``volatility`` is the standard deviation of returns per
    sqrt(second) as a fraction; ``drift`` the expected return per second."""

    symbol: str = Field(min_length=1)
    start_price: Number = Field(gt=0)
    volatility: Number = Field(ge=0, le=1)
    drift: Number = Field(0.0, ge=-1, le=1)
    tick_size: Number = Field(gt=0)


class SimulatedFeedConfig(_Frozen):
    """``ticks_per_second`` per symbol, in the clock's time."""

    seed: Whole = 0
    ticks_per_second: Number = Field(gt=0, le=10_000)
    symbols: tuple[SimulatedSymbolConfig, ...] = Field(min_length=1)
    session: SessionConfig | None = None
    max_batch: Whole = Field(100_000, ge=1)  # most ticks one ``step`` returns; a longer gap is skipped

    @field_validator("symbols")
    @classmethod
    def _unique(cls, value: tuple[SimulatedSymbolConfig, ...]) -> tuple[SimulatedSymbolConfig, ...]:
        names = [s.symbol for s in value]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"symbols listed twice: {twice}")
        return value


class CsvReplayConfig(_Frozen):
    """``speed``: None replays as fast as possible, N replays at N times real time."""

    path: Path
    speed: Number | None = Field(None, gt=0)


@dataclass(frozen=True, slots=True)
class FeedStatistics:
    ticks: int  # events produced
    skipped: int  # simulated: scheduled ticks not produced (closed session or falling behind)
    exhausted: bool  # replay: the file has been read to its end


class _Walk:
    """A geometric random walk for one symbol with its own seeded generator."""

    __slots__ = ("_decimals", "_drift", "_price", "_rng", "_tick", "_vol", "symbol")

    def __init__(self, cfg: SimulatedSymbolConfig, seed: int) -> None:
        self.symbol = cfg.symbol
        self._price = cfg.start_price
        self._tick = cfg.tick_size
        self._decimals = max(0, -int(Decimal(str(cfg.tick_size)).as_tuple().exponent))
        self._vol = cfg.volatility
        self._drift = cfg.drift
        # A string seed is hashed with SHA-512: the same per run and per symbol, whatever the others.
        self._rng = random.Random(f"{seed}:{cfg.symbol}")

    def tick(self, ts: datetime, dt: float) -> MarketDataUpdated:
        z = self._rng.gauss(0.0, 1.0)
        self._price *= math.exp(
            (self._drift - 0.5 * self._vol * self._vol) * dt + self._vol * math.sqrt(dt) * z
        )
        price = max(round(round(self._price / self._tick) * self._tick, self._decimals), self._tick)
        return MarketDataUpdated(
            ts=ts, symbol=self.symbol, price=price, volume=float(self._rng.randint(1, 10))
        )


class SimulatedFeed:
    """Seeded, reproducible random walks: the same seed gives the same prices, however the
    ticks are pulled (``next_ticks`` or ``step``), since each tick moves its symbol by the
    nominal ``1 / ticks_per_second`` seconds."""

    def __init__(self, config: SimulatedFeedConfig, clock: Clock) -> None:
        self._config = config
        self._clock = clock
        self._walks = [_Walk(s, config.seed) for s in config.symbols]
        self._dt = 1.0 / config.ticks_per_second
        self._period = timedelta(seconds=self._dt)
        self._next = 0
        self._due: datetime | None = None
        self._ticks = 0
        self._skipped = 0

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(w.symbol for w in self._walks)

    def next_ticks(self, n: int) -> list[MarketDataUpdated]:
        """The next ``n`` ticks, round-robin over the symbols, stamped ``clock.now()``; none
        while the session is closed."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"n must be an int >= 0, got {n!r}")
        now = self._clock.now()
        session = self._config.session
        if session is not None and not session.is_open(now):
            self._skipped += n
            return []
        walks, count, dt = self._walks, len(self._walks), self._dt
        out = []
        for _ in range(n):
            out.append(walks[self._next].tick(now, dt))
            self._next = (self._next + 1) % count
        self._ticks += n
        return out

    def step(self, now: datetime | None = None) -> list[MarketDataUpdated]:
        """Every tick due from the last step up to ``now`` (default ``clock.now()``): one per
        symbol every ``1 / ticks_per_second`` seconds, each stamped with its scheduled time."""
        now = self._clock.now() if now is None else now
        if self._due is None:
            self._due = now
        session = self._config.session
        out: list[MarketDataUpdated] = []
        rounds = 0
        limit = max(1, self._config.max_batch // len(self._walks))
        while self._due <= now and rounds < limit:
            due = self._due
            if session is None or session.is_open(due):
                out.extend(w.tick(due, self._dt) for w in self._walks)
            else:
                self._skipped += len(self._walks)
            self._due = due + self._period
            rounds += 1
        if self._due <= now:
            behind = int((now - self._due) / self._period) + 1
            self._skipped += behind * len(self._walks)
            self._due += self._period * behind
            logger.warning("simulated feed fell %d rounds behind the clock; skipped them", behind)
        self._ticks += len(out)
        return out

    async def stream(
        self, *, poll_interval: float = 0.05, limit: int | None = None
    ) -> AsyncIterator[MarketDataUpdated]:
        """Yield ticks as the clock makes them due, polling every ``poll_interval`` real seconds."""
        sent = 0
        while limit is None or sent < limit:
            for tick in self.step():
                yield tick
                sent += 1
                if limit is not None and sent >= limit:
                    return
            await asyncio.sleep(poll_interval)

    def statistics(self) -> FeedStatistics:
        return FeedStatistics(ticks=self._ticks, skipped=self._skipped, exhausted=False)

    def __repr__(self) -> str:
        return (
            f"SimulatedFeed(symbols={list(self.symbols)}, seed={self._config.seed}, "
            f"ticks_per_second={self._config.ticks_per_second:g}, ticks={self._ticks})"
        )


class CsvReplayFeed:
    """Replays ``timestamp,symbol,price[,volume]`` ticks or ``timestamp,symbol,open,high,low,close,volume``
    bars. Each event keeps the file's timestamp. A malformed row raises ``FeedDataError`` with the
    file and line number when the replay reaches it; ``validate()`` checks the whole file first."""

    def __init__(self, path: str | Path, *, speed: float | None = None) -> None:
        if speed is not None and (isinstance(speed, bool) or not math.isfinite(speed) or speed <= 0):
            raise ValueError(f"speed must be None (as fast as possible) or a number > 0, got {speed!r}")
        self.path = Path(path)
        self.speed = speed
        self._cursor: Generator[MarketDataUpdated, None, None] | None = None
        self._ticks = 0
        self._exhausted = False

    @classmethod
    def from_config(cls, config: CsvReplayConfig) -> CsvReplayFeed:
        return cls(config.path, speed=config.speed)

    def __iter__(self) -> Iterator[MarketDataUpdated]:
        """A fresh pass over the whole file."""
        return read_csv_ticks(self.path)

    def validate(self) -> int:
        """Read the whole file; return its number of events or raise ``FeedDataError``."""
        return sum(1 for _ in read_csv_ticks(self.path))

    def next_ticks(self, n: int) -> list[MarketDataUpdated]:
        """The next ``n`` events of the replay (fewer at the end, then none)."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"n must be an int >= 0, got {n!r}")
        if self._cursor is None:
            self._cursor = read_csv_ticks(self.path)
        out = []
        for _ in range(n):
            event = next(self._cursor, None)
            if event is None:
                self._exhausted = True
                break
            out.append(event)
        self._ticks += len(out)
        return out

    async def stream(self) -> AsyncIterator[MarketDataUpdated]:
        """Yield every event, spaced by the file's timestamps divided by ``speed`` (real seconds)."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        first: datetime | None = None
        for n, event in enumerate(read_csv_ticks(self.path), 1):
            if self.speed is not None:
                first = first or event.ts
                delay = start + (event.ts - first).total_seconds() / self.speed - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
            elif n % 1000 == 0:
                await asyncio.sleep(0)  # let the loop breathe during a flat-out replay
            self._ticks += 1
            yield event
        self._exhausted = True

    def close(self) -> None:
        """Release the file held by ``next_ticks`` (``stream`` and iteration close their own)."""
        if self._cursor is not None:
            self._cursor.close()
            self._cursor = None

    def __enter__(self) -> CsvReplayFeed:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def statistics(self) -> FeedStatistics:
        return FeedStatistics(ticks=self._ticks, skipped=0, exhausted=self._exhausted)

    def __repr__(self) -> str:
        speed = "max" if self.speed is None else f"{self.speed:g}x"
        return f"CsvReplayFeed({str(self.path)!r}, speed={speed}, ticks={self._ticks})"
