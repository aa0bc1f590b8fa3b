"""RiskManager.headroom(): the room the enforced limits leave, from the engine's rules and trackers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from trading.model import OrderRole, OrderSide, OrderType, TradingState
from trading.risk import ContractBound, Headroom

from .conftest import Desk

RULES = {
    "daily_realized_loss": {"limit": 1000},
    "trailing_drawdown": {"max_drawdown": 3000},
    "max_contracts": {"limit": 6, "symbols": ["ES", "NQ"]},
    "max_contracts_per_instrument": {"limit": 4, "per_symbol": {"NQ": 2}},
}


def _symbol(headroom: Headroom, symbol: str):  # -> SymbolHeadroom
    return next(s for s in headroom.symbols if s.symbol == symbol)


def test_headroom_flat_account_full_room_and_count_limits(make_desk: Callable[..., Desk]) -> None:
    desk = make_desk(RULES)

    room = desk.rm.headroom(["ES", "NQ"])

    assert (room.daily_loss_limit, room.daily_loss_used, room.daily_loss_left) == (1000.0, 0.0, 1000.0)
    assert (room.drawdown_floor, room.drawdown_distance, room.drawdown_max) == (97_000.0, 3000.0, 3000.0)
    assert (room.contracts_used, room.contracts_limit) == (0.0, 6.0)
    assert (room.locked, room.lockout_until, room.reset_at) == (False, None, desk.rm.next_reset)
    es, nq = _symbol(room, "ES"), _symbol(room, "NQ")
    assert (es.contracts_allowed, es.risk_per_contract, es.stop_source) == (4.0, None, "")
    assert nq.contracts_allowed == 2.0 and nq.bound_by == "max_contracts_per_instrument 2 for NQ (0 in use)"


def test_headroom_realized_loss_net_of_commissions_shrinks_daily_room(make_desk: Callable[..., Desk]) -> None:
    desk = make_desk(RULES)
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)
    desk.trade("ES", OrderSide.SELL, 1, 4996.0)  # -4 points x 50 = -200, commissions 2 x 2

    room = desk.rm.headroom()

    assert room.daily_loss_used == pytest.approx(204.0)
    assert room.daily_loss_left == pytest.approx(796.0)
    assert room.drawdown_distance == pytest.approx(3000.0 - 204.0)


def test_headroom_loss_room_over_stop_risk_bounds_contracts(make_desk: Callable[..., Desk]) -> None:
    desk = make_desk(RULES)

    # a 6-point typical stop on ES: 6 x 50 + 2 x 2 commission = 304 a contract; 1000 / 304 -> 3
    room = desk.rm.headroom(["ES"], stops={"ES": 6.0})

    es = _symbol(room, "ES")
    assert es.risk_per_contract == pytest.approx(304.0)
    assert (es.contracts_allowed, es.stop_source) == (3.0, "recent trades")
    assert es.bound_by == "loss room 1,000.00 at 304.00 a contract (recent trades)"


def test_headroom_working_stop_of_open_position_is_the_fallback_stop(make_desk: Callable[..., Desk]) -> None:
    desk = make_desk(RULES)
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 2, 5000.0)
    desk.order(
        "ES", OrderSide.SELL, 2, order_type=OrderType.STOP, stop_price=4990.0, role=OrderRole.STOP_LOSS
    )

    es = _symbol(desk.rm.headroom(), "ES")

    assert (es.held, es.stop_distance, es.stop_source) == (2.0, 10.0, "working stop")
    assert es.risk_per_contract == pytest.approx(504.0)
    # count limits: max_contracts_per_instrument 4 - 2 held = 2 beats the loss room 996 / 504 = 1.97 -> 1
    assert es.contracts_allowed == 1.0


def test_headroom_working_entry_orders_count_as_filled(make_desk: Callable[..., Desk]) -> None:
    desk = make_desk(RULES)
    desk.tick("NQ", 18_000.0)
    desk.order("NQ", OrderSide.BUY, 1, order_type=OrderType.LIMIT, price=17_000.0)

    nq = _symbol(desk.rm.headroom(["NQ"]), "NQ")

    assert nq.contracts_allowed == 1.0 and nq.bound_by.endswith("(1 in use)")


def test_headroom_account_lockout_allows_nothing_and_says_until_when(make_desk: Callable[..., Desk]) -> None:
    desk = make_desk(RULES)
    until = desk.clock.now() + timedelta(seconds=120)
    desk.rm.enforcer.lock("account", "cooldown_after_loss", "loss", until=until, state=TradingState.REDUCING)

    room = desk.rm.headroom(["ES"])

    assert (room.locked, room.lockout_until) == (True, until)
    assert room.lockout_reason == "cooldown_after_loss: loss"
    es = _symbol(room, "ES")
    assert (es.contracts_allowed, es.bound_by) == (0.0, "account locked by cooldown_after_loss")


def test_headroom_lockout_past_its_end_no_longer_counts(make_desk: Callable[..., Desk]) -> None:
    desk = make_desk(RULES)
    until = desk.clock.now() + timedelta(seconds=10)
    desk.rm.enforcer.lock("account", "cooldown_after_loss", "loss", until=until, state=TradingState.REDUCING)
    desk.clock.advance(11)

    room = desk.rm.headroom()

    assert not room.locked and room.lockout_until is None


def test_headroom_paused_account_allows_nothing(make_desk: Callable[..., Desk]) -> None:
    desk = make_desk(RULES)
    desk.rm.pause("news", who="alice")

    es = _symbol(desk.rm.headroom(["ES"]), "ES")

    assert es.contracts_allowed == 0.0 and es.bound_by == "paused: paused by alice: news"


def test_headroom_shadow_rules_bind_nothing(make_desk: Callable[..., Desk]) -> None:
    desk = make_desk(
        {
            "daily_realized_loss": {"limit": 1000, "mode": "shadow"},
            "max_contracts": {"limit": 1, "mode": "shadow"},
        }
    )

    room = desk.rm.headroom(["ES"], stops={"ES": 6.0})

    assert (room.daily_loss_limit, room.contracts_limit) == (None, None)
    es = _symbol(room, "ES")
    assert (es.contracts_allowed, es.bound_by) == (None, "no enforced limit")


def test_headroom_blocked_symbol_allows_nothing(make_desk: Callable[..., Desk]) -> None:
    desk = make_desk({"symbol_blocks": {"symbols": ["GME"]}})

    gme = _symbol(desk.rm.headroom(["GME"]), "GME")

    assert (gme.contracts_allowed, gme.bound_by) == (0.0, "GME blocked by symbol_blocks")


def test_headroom_rule_with_contract_bound_is_asked(make_desk: Callable[..., Desk]) -> None:
    # Arrange: the seam a per-trade risk rule will use: any enforced rule with contracts_allowed()
    desk = make_desk(RULES)
    rule = desk.rm.engine.rules["max_contracts"]
    asked: list[tuple[str, float | None]] = []

    def contracts_allowed(symbol: str, risk_per_contract: float | None) -> float | None:
        asked.append((symbol, risk_per_contract))
        return 1.5

    object.__setattr__(rule, "contracts_allowed", contracts_allowed)
    assert isinstance(rule, ContractBound)

    # Act
    es = _symbol(desk.rm.headroom(["ES"], stops={"ES": 2.0}), "ES")

    # Assert
    assert asked == [("ES", pytest.approx(104.0))]
    assert (es.contracts_allowed, es.bound_by) == (1.0, "max_contracts")


def test_headroom_net_daily_loss_counts_open_loss_and_trailing_loss_its_fall(
    make_desk: Callable[..., Desk],
) -> None:
    # daily_loss on the net basis counts the open loss; daily_trailing_loss the fall from
    # today's peak: both are daily loss rules the strip reads (DailyLossRoom), the tightest wins
    desk = make_desk({"daily_loss": {"limit": 900, "basis": "net"}, "daily_trailing_loss": {"limit": 2000}})
    desk.tick("ES", 5000.0)
    desk.trade("ES", OrderSide.BUY, 1, 5000.0)  # commission 2.00
    desk.tick("ES", 4994.0)  # open -300

    room = desk.rm.headroom()

    assert (room.daily_loss_limit, room.daily_loss_used, room.daily_loss_left) == (900.0, 302.0, 598.0)
