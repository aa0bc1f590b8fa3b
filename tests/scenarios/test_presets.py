"""Each shipped preset against a day a funded trader would fail, and a day that passes.

The desk is the paper broker and a RiskManager on a TestClock, started from the preset file as a
trader's risk file would (``preset: <name>``). Prices are a generated, deterministic sequence of
whole ticks, so every fill, the stop and the money at the stop are exact. A failing day is one on
which, holding on, the account would cross the firm's number (the number the preset's comments
name); the desk must stop it short of that number. A compliant day is never touched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from trading.broker import PaperBroker
from trading.bus import EventBus
from trading.clock import TestClock
from trading.model import (
    Event,
    Instrument,
    MarketDataUpdated,
    Order,
    OrderDenied,
    OrderSide,
    OrderStatus,
    RuleViolated,
    TradingState,
)
from trading.risk import RiskManager, load_risk_config

# Tuesday 2026-01-06 15:00 UTC = 09:00 in Chicago: inside the presets' session (Monday 17:00 on).
START = datetime(2026, 1, 6, 15, 0, tzinfo=UTC)
RESET = datetime(2026, 1, 6, 23, 0, tzinfo=UTC)  # 17:00 Chicago
INSTRUMENTS = (
    Instrument(symbol="ES", tick_size=0.25, multiplier=50.0, commission=2.0),
    Instrument(symbol="NQ", tick_size=0.25, multiplier=20.0, commission=2.0),
    Instrument(symbol="MES", tick_size=0.25, multiplier=5.0, commission=0.5),
)
TICK = 0.25


def path(start: float, *legs: float) -> list[float]:
    """Whole ticks from ``start`` through each leg's end, one tick a step (the generated prices)."""
    prices, price = [], start
    for end in legs:
        step = TICK if end > price else -TICK
        while price != end:
            price += step
            prices.append(price)
    return prices


class Account:
    """A paper account watched by the preset's rules, one price a second."""

    def __init__(self, tmp_path: Path, preset: str, starting_balance: float) -> None:
        risk = tmp_path / "risk.yaml"
        risk.write_text(f"preset: {preset}\n")
        self.clock = TestClock(START)
        self.bus = EventBus()
        self.events: list[Event] = []
        self.bus.subscribe(Event, self.events.append)
        self.broker = PaperBroker(self.bus, self.clock, INSTRUMENTS, starting_balance=starting_balance)
        self.rm = RiskManager(self.bus, self.broker, self.clock, load_risk_config(risk), config_path=risk)
        self.rm.start()
        self.start = Decimal(starting_balance)

    def tick(self, symbol: str, price: float) -> None:
        self.clock.advance(1)
        self.broker.on_market_data(MarketDataUpdated(ts=self.clock.now(), symbol=symbol, price=price))

    def walk(self, symbol: str, prices: list[float]) -> None:
        for price in prices:
            self.tick(symbol, price)

    def order(self, symbol: str, side: OrderSide, quantity: float) -> Order:
        return self.broker.submit(Order(symbol=symbol, side=side, quantity=quantity))

    def trade(self, symbol: str, side: OrderSide, quantity: float, at: float) -> Order:
        order = self.order(symbol, side, quantity)
        self.tick(symbol, at)
        return order

    def next_day(self) -> None:
        """Past today's 17:00 reset (a sweep runs it), then to 09:00 Chicago of the next day."""
        day = self.clock.now().date() - START.date()
        self.clock.set_time(RESET + day + timedelta(minutes=1))
        self.rm.sweep()
        self.clock.set_time(START + day + timedelta(days=1))

    def loss(self) -> Decimal:
        """The account's loss from its start, exact (flat: cash is the equity)."""
        return self.start - self.rm.pnl.exact_equity()

    def violations(self) -> list[RuleViolated]:
        return [e for e in self.events if isinstance(e, RuleViolated)]

    def denials(self) -> list[OrderDenied]:
        return [e for e in self.events if isinstance(e, OrderDenied)]

    def flat(self) -> bool:
        return not any(p.quantity for p in self.broker.positions().values())

    def close(self) -> None:
        self.rm.stop()


@pytest.fixture
def open_account(tmp_path: Path) -> Iterator[Callable[..., Account]]:
    accounts: list[Account] = []

    def build(preset: str, starting_balance: float) -> Account:
        account = Account(tmp_path, preset, starting_balance)
        accounts.append(account)
        return account

    yield build
    for account in accounts:
        account.close()


# --- funded_50k_eod: a 50K, end-of-day trailing 2,000, daily loss 1,000 (the firm's numbers) ------


def test_funded_50k_eod_losing_day_flattened_and_halted_short_of_the_firms_daily_loss(open_account):
    acct = open_account("funded_50k_eod", 50_000)
    falling = path(5000.0, 4985.0)  # held to the end: 2 ES x 15 points = 1,500 lost, firm fails at 1,000
    assert 2 * 50 * (5000.0 - falling[-1]) >= 1000

    acct.trade("ES", OrderSide.BUY, 2, at=5000.0)
    acct.walk("ES", falling)

    # net loss 904 at 4991.00 (>= 900): flattened at the next price, 4990.75
    (violation,) = acct.violations()
    assert (violation.rule, violation.action) == ("daily_loss", "flatten_and_lock")
    assert acct.rm.state is TradingState.HALTED and acct.flat()
    assert acct.loss() == Decimal("933")  # 2 x 50 x 9.25 + 4 x 2.00 commissions
    assert acct.loss() < 1000  # the firm's daily loss: never reached
    assert acct.order("ES", OrderSide.BUY, 1).status is OrderStatus.DENIED  # halted until 17:00


def test_funded_50k_eod_floor_from_end_of_day_balances_stops_the_fourth_day_above_the_firms(open_account):
    acct = open_account("funded_50k_eod", 50_000)
    drawdown = acct.rm.engine.rules["trailing_drawdown"]
    # day 1: +1,492 at the close (the intraday peak, +1,996, does not move an end-of-day floor)
    acct.trade("ES", OrderSide.BUY, 2, at=5000.0)
    acct.walk("ES", path(5000.0, 5020.0, 5015.0))
    acct.trade("ES", OrderSide.SELL, 2, at=5015.0)
    assert drawdown.floor == Decimal(48_200)
    acct.next_day()
    assert (drawdown.high_water, drawdown.floor) == (Decimal(51_492), Decimal(49_692))  # the firm's: 49,492
    # days 2 and 3: -833 each, under the daily loss: nothing fires
    for _ in range(2):
        acct.trade("ES", OrderSide.BUY, 2, at=5000.0)
        acct.walk("ES", path(5000.0, 4991.75))
        acct.trade("ES", OrderSide.SELL, 2, at=4991.75)
        acct.next_day()
    assert acct.violations() == [] and acct.rm.pnl.cash == Decimal(49_826)
    falling = path(5000.0, 4990.0)  # held: 49,826 - 1,000 - 8 = 48,818, under the firm's floor
    assert 49_826 - 2 * 50 * (5000.0 - falling[-1]) - 8 <= 49_492

    acct.trade("ES", OrderSide.BUY, 2, at=5000.0)
    acct.walk("ES", falling)

    # 4998.50: equity 49,672 <= 49,692, a 158 loss on the day; flattened at 4998.25
    (violation,) = acct.violations()
    assert (violation.rule, violation.action) == ("trailing_drawdown", "flatten_and_lock")
    assert acct.rm.state is TradingState.HALTED and acct.flat()
    assert acct.rm.pnl.exact_equity() == Decimal(49_643)
    assert acct.rm.pnl.exact_equity() > Decimal(51_492) - 2000  # the firm's floor: never reached


def test_funded_50k_eod_compliant_day_never_touched(open_account):
    acct = open_account("funded_50k_eod", 50_000)

    acct.trade("ES", OrderSide.BUY, 2, at=5000.0)
    acct.walk("ES", path(5000.0, 4996.0, 5003.0))
    acct.trade("ES", OrderSide.SELL, 2, at=5003.25)
    acct.trade("MES", OrderSide.SELL, 10, at=5003.0)  # 10 micros weigh 1 contract
    acct.walk("MES", path(5003.0, 5006.0, 4999.0))
    acct.trade("MES", OrderSide.BUY, 10, at=4999.0)
    acct.clock.set_time(RESET + timedelta(minutes=1))  # past the 15:05 close and the 17:00 reset
    acct.rm.sweep()

    assert acct.violations() == [] and acct.denials() == []
    assert acct.rm.state is TradingState.ACTIVE
    assert acct.rm.pnl.cash == Decimal("50507")  # +325 - 8 on ES, +200 - 10 x 2 x 0.50 on MES


# --- funded_50k_intraday: a 50K, intraday trailing 2,500 with open P&L (the firm's number) --------


def test_funded_50k_intraday_give_back_from_the_open_peak_stopped_above_the_firms_floor(open_account):
    acct = open_account("funded_50k_intraday", 50_000)
    run_up_and_back = path(18000.0, 18040.0, 17960.0)

    acct.trade("NQ", OrderSide.BUY, 2, at=18000.0)
    acct.walk("NQ", run_up_and_back)

    # the open peak 51,596 (2 x 20 x 40 - 4): desk floor 49,346, the firm's 49,096; 17983.75 hits it
    firm_floor = Decimal(51_596) - 2500
    (violation,) = acct.violations()
    assert (violation.rule, violation.action) == ("trailing_drawdown", "flatten_and_lock")
    assert acct.rm.state is TradingState.HALTED and acct.flat()
    assert acct.rm.pnl.exact_equity() == Decimal("49332")  # flattened at 17983.50
    assert acct.rm.pnl.exact_equity() > firm_floor  # the firm's floor: never reached
    held = 50_000 + 2 * 20 * (run_up_and_back[-1] - 18000.0) - 4
    assert held <= firm_floor  # holding on, the firm would have failed the account


def test_funded_50k_intraday_compliant_day_never_touched(open_account):
    acct = open_account("funded_50k_intraday", 50_000)

    acct.trade("NQ", OrderSide.BUY, 2, at=18000.0)
    acct.walk("NQ", path(18000.0, 18030.0, 17990.0, 18010.0))
    acct.trade("NQ", OrderSide.SELL, 2, at=18010.0)
    acct.trade("ES", OrderSide.SELL, 3, at=5000.0)
    acct.walk("ES", path(5000.0, 4995.0, 5003.0))  # gives back 1,200 of its open peak 51,136
    acct.trade("ES", OrderSide.BUY, 3, at=5003.0)

    assert acct.violations() == [] and acct.denials() == []
    assert acct.rm.state is TradingState.ACTIVE
    assert acct.rm.pnl.cash == Decimal("49930")  # +400 - 8 on NQ, -450 - 12 on ES


def test_funded_50k_intraday_hedge_in_one_group_denied(open_account):
    acct = open_account("funded_50k_intraday", 50_000)
    acct.trade("ES", OrderSide.BUY, 1, at=5000.0)

    hedge = acct.order("MES", OrderSide.SELL, 5)

    assert hedge.status is OrderStatus.DENIED
    assert [d.rule for d in acct.denials()] == ["symbol_groups"]
    assert acct.rm.state is TradingState.ACTIVE


# --- funded_150k_scaling: a 150K, daily loss 3,000, scaling plan from 3 contracts ----------------


def test_funded_150k_scaling_over_size_denied_then_losing_day_stopped_short_of_the_firms_loss(open_account):
    acct = open_account("funded_150k_scaling", 150_000)
    falling = path(5000.0, 4975.0)  # held: 3 ES x 25 points = 3,750 lost, firm fails at 3,000
    assert 3 * 50 * (5000.0 - falling[-1]) >= 3000

    acct.trade("ES", OrderSide.BUY, 3, at=5000.0)
    more = acct.order("ES", OrderSide.BUY, 2)  # 5 contracts on the first tier's 3
    acct.walk("ES", falling)

    assert more.status is OrderStatus.DENIED
    assert [d.rule for d in acct.denials()] == ["scaling_plan"]
    # net loss 2,706 at 4982.00 (>= 2,700): flattened at 4981.75
    (violation,) = acct.violations()
    assert (violation.rule, violation.action) == ("daily_loss", "flatten_and_lock")
    assert acct.rm.state is TradingState.HALTED and acct.flat()
    assert acct.loss() == Decimal("2749.5")  # 3 x 50 x 18.25 + 6 x 2.00 commissions
    assert acct.loss() < 3000  # the firm's daily loss: never reached


def test_funded_150k_scaling_compliant_day_untouched_and_the_tier_rises_only_at_the_reset(open_account):
    acct = open_account("funded_150k_scaling", 150_000)
    plan = acct.rm.engine.rules["scaling_plan"]

    acct.trade("ES", OrderSide.BUY, 3, at=5000.0)
    acct.walk("ES", path(5000.0, 4995.0, 5011.0))
    acct.trade("ES", OrderSide.SELL, 3, at=5011.0)
    limit_today = plan.limit
    acct.clock.set_time(RESET + timedelta(minutes=1))
    acct.rm.sweep()

    assert acct.violations() == [] and acct.denials() == []
    assert acct.rm.state is TradingState.ACTIVE
    assert acct.rm.pnl.cash == Decimal("151638")  # 3 x 50 x 11 - 12
    assert (limit_today, plan.limit) == (3, 4)  # 151,638 reaches the 151,500 tier at the reset
