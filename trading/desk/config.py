"""The desk's configuration (``config/desk.yaml``): frozen, typed, unknown keys refused."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from trading._yaml import load_yaml_model
from trading.broker.feeds import CsvReplayConfig, SimulatedFeedConfig
from trading.broker.registry import PAPER, PaperSettings, settings_models
from trading.broker.venue.config import VenueSettings
from trading.config_types import Flag, Number, Timestamp, Whole
from trading.model import Instrument

__all__ = [
    "AccountConfig",
    "BrokerConfig",
    "ClockConfig",
    "DeskConfig",
    "ExecutorConfig",
    "FeedConfig",
    "InstrumentConfig",
    "LoopConfig",
    "MaCrossoverConfig",
    "MeanReversionConfig",
    "StrategyConfig",
    "load_desk_config",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AccountConfig(_Frozen):
    name: str = Field(default="default", min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    starting_balance: Number = Field(default=100_000.0, gt=0)
    slippage_ticks: Whole = Field(default=0, ge=0)


class InstrumentConfig(_Frozen):
    symbol: str = Field(min_length=1)
    tick_size: Number = Field(gt=0)
    multiplier: Number = Field(default=1.0, gt=0)
    commission: Number = Field(default=0.0, ge=0)
    currency: str = "USD"
    asset_class: Literal["FUTURE", "STOCK", "FX", "CRYPTO", "OPTION"] = "FUTURE"

    def to_instrument(self) -> Instrument:
        return Instrument(
            symbol=self.symbol,
            tick_size=self.tick_size,
            multiplier=self.multiplier,
            commission=self.commission,
            currency=self.currency,
            asset_class=self.asset_class,
        )


if TYPE_CHECKING:
    BrokerConfig = PaperSettings | VenueSettings
else:  # one model per registered broker kind, told apart by ``kind`` (trading/broker/registry.py)
    BrokerConfig = Annotated[Union[settings_models()], Field(discriminator="kind")]  # noqa: UP007


class FeedConfig(_Frozen):
    """``simulated`` or ``csv`` prices for the paper broker; ``broker``: a venue's account,
    whose marks come from the venue itself (no bars for strategies)."""

    kind: Literal["simulated", "csv", "broker"] = "simulated"
    simulated: SimulatedFeedConfig | None = None
    csv: CsvReplayConfig | None = None

    @model_validator(mode="after")
    def _section_for_kind(self) -> FeedConfig:
        if self.kind != "broker" and getattr(self, self.kind) is None:
            raise ValueError(f"feed.kind is {self.kind!r} but the feed.{self.kind} section is missing")
        return self


class ClockConfig(_Frozen):
    """``speed`` simulated seconds per real second (1 = real time; a demo runs faster)."""

    speed: Number = Field(default=1.0, gt=0, le=3600)
    start: Timestamp | None = None  # when the simulated clock starts, with a UTC offset; None: now


class LoopConfig(_Frozen):
    """How often (real seconds) the desk does each of its periodic jobs."""

    publish_interval: Number = Field(default=1.0, gt=0, le=60)
    heartbeat_interval: Number = Field(default=0.5, gt=0, le=1)
    risk_sweep_interval: Number = Field(default=1.0, gt=0, le=60)
    command_poll_interval: Number = Field(default=0.25, gt=0, le=10)
    bar_seconds: Number = Field(default=5.0, gt=0, le=86_400)  # simulated seconds per bar the strategies see
    history_points: Whole = Field(default=20_000, ge=100, le=2_000_000)  # equity points at full resolution
    recent_items: Whole = Field(default=200, ge=10, le=10_000)  # transactions / violations in a snapshot


class ExecutorConfig(_Frozen):
    strategy_workers: Whole = Field(default=4, ge=1, le=64)
    risk_workers: Whole = Field(default=2, ge=1, le=16)
    max_queue_size: Whole = Field(default=100, ge=1, le=1_000_000)
    task_timeout: Number = Field(default=5.0, gt=0, le=3600)


class _StrategyBase(_Frozen):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    symbols: tuple[str, ...] = Field(min_length=1)
    quantity: Number = Field(default=1, gt=0)
    enabled: Flag = True


class MaCrossoverConfig(_StrategyBase):
    kind: Literal["ma_crossover"]
    fast: Whole = Field(default=5, ge=1, le=100_000)
    slow: Whole = Field(default=20, ge=2, le=100_000)
    take_profit_sigma: Number = Field(default=3.0, gt=0)
    stop_loss_sigma: Number = Field(default=2.0, gt=0)

    @model_validator(mode="after")
    def _fast_below_slow(self) -> MaCrossoverConfig:
        if self.fast >= self.slow:
            raise ValueError(f"fast ({self.fast}) must be below slow ({self.slow})")
        return self


class MeanReversionConfig(_StrategyBase):
    kind: Literal["mean_reversion"]
    lookback: Whole = Field(default=30, ge=3, le=100_000)
    entry_z: Number = Field(default=2.0, gt=0)
    stop_z: Number = Field(default=1.5, gt=0)


StrategyConfig = Annotated[MaCrossoverConfig | MeanReversionConfig, Field(discriminator="kind")]


class DeskConfig(_Frozen):
    account: AccountConfig = AccountConfig()
    broker: BrokerConfig = PaperSettings()
    instruments: tuple[InstrumentConfig, ...] = Field(min_length=1)
    feed: FeedConfig
    clock: ClockConfig = ClockConfig()
    loop: LoopConfig = LoopConfig()
    executor: ExecutorConfig = ExecutorConfig()
    strategies: tuple[StrategyConfig, ...] = ()
    risk_config: str = "risk.yaml"  # relative to this file's folder

    @field_validator("instruments")
    @classmethod
    def _unique_symbols(cls, value: tuple[InstrumentConfig, ...]) -> tuple[InstrumentConfig, ...]:
        seen: set[str] = set()
        for inst in value:
            if inst.symbol in seen:
                raise ValueError(f"instrument {inst.symbol!r} is listed twice")
            seen.add(inst.symbol)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> DeskConfig:
        symbols = {i.symbol for i in self.instruments}
        names: set[str] = set()
        for strat in self.strategies:
            if strat.name in names:
                raise ValueError(f"strategy name {strat.name!r} is used twice")
            names.add(strat.name)
            unknown = set(strat.symbols) - symbols
            if unknown:
                raise ValueError(
                    f"strategy {strat.name!r} trades {sorted(unknown)}, which are not instruments "
                    f"(allowed: {sorted(symbols)})"
                )
        self._broker_consistent()
        if self.feed.kind == "simulated" and self.feed.simulated is not None:
            fed = {s.symbol for s in self.feed.simulated.symbols}
            missing = symbols - fed
            if missing:
                raise ValueError(f"feed.simulated has no price model for {sorted(missing)}")
        return self

    def _broker_consistent(self) -> None:
        """A venue's account is real: its prices are the venue's and its time is now."""
        kind = self.broker.kind
        if kind == PAPER:
            if self.feed.kind == "broker":
                raise ValueError("feed.kind broker needs a venue broker (broker.kind), not the paper broker")
            return
        if self.feed.kind != "broker":
            raise ValueError(
                f"broker.kind {kind} guards a real account: feed.kind must be broker (marks come from "
                f"the venue), not {self.feed.kind}"
            )
        if self.clock.speed != 1 or self.clock.start is not None:
            raise ValueError(f"broker.kind {kind} runs in real time: clock.speed 1 and no clock.start")
        if self.strategies:
            raise ValueError(
                f"broker.kind {kind} has no bars for strategies (feed.kind broker): the desk guards the "
                "account; remove the strategies"
            )


def load_desk_config(path: str | Path) -> DeskConfig:
    """Load and validate ``path``; ``ConfigError`` names the file, field, value and what is allowed."""
    return load_yaml_model(path, DeskConfig)
