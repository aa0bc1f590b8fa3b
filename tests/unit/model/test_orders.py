"""Order lifecycle table and order validation."""

from __future__ import annotations

import itertools

import pytest

from trading.errors import InvalidStateTransition, OrderError
from trading.model import ORDER_STATE_TABLE, Order, OrderIdFactory, OrderSide, OrderStatus, OrderType

_S = OrderStatus
LEGAL = {
    (_S.NEW, _S.ACCEPTED), (_S.NEW, _S.DENIED), (_S.NEW, _S.REJECTED), (_S.NEW, _S.CANCELLED),
    (_S.ACCEPTED, _S.PARTIALLY_FILLED), (_S.ACCEPTED, _S.FILLED), (_S.ACCEPTED, _S.CANCELLED),
    (_S.ACCEPTED, _S.EXPIRED), (_S.PARTIALLY_FILLED, _S.PARTIALLY_FILLED), (_S.PARTIALLY_FILLED, _S.FILLED),
    (_S.PARTIALLY_FILLED, _S.CANCELLED), (_S.PARTIALLY_FILLED, _S.EXPIRED),
}  # fmt: skip
ALL_MOVES = list(itertools.product(OrderStatus, OrderStatus))


def _order(status: OrderStatus = OrderStatus.NEW) -> Order:
    return Order(symbol="ES", side=OrderSide.BUY, quantity=1, status=status)


def test_order_state_table_matches_the_documented_lifecycle() -> None:
    # Arrange / Act
    table_moves = {(src, dst) for src, targets in ORDER_STATE_TABLE.items() for dst in targets}
    # Assert
    assert table_moves == LEGAL
    assert set(ORDER_STATE_TABLE) == set(OrderStatus)


@pytest.mark.parametrize(("current", "target"), sorted(LEGAL, key=str))
def test_order_transition_legal_move_changes_status(current: OrderStatus, target: OrderStatus) -> None:
    order = _order(current)
    order.transition(target)
    assert order.status is target


@pytest.mark.parametrize(("current", "target"), [m for m in ALL_MOVES if m not in LEGAL], ids=str)
def test_order_transition_illegal_move_raises_naming_both_states(current: OrderStatus, target: OrderStatus) -> None:
    order = _order(current)
    with pytest.raises(InvalidStateTransition, match=f"order transition {current.name} -> {target.name}"):
        order.transition(target)
    assert order.status is current


def test_order_status_terminal_states_are_not_open() -> None:
    terminal = {s for s in OrderStatus if not ORDER_STATE_TABLE[s]}
    assert terminal == {s for s in OrderStatus if s.is_terminal}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"quantity": 0}, "quantity must be a finite number > 0, got 0"),
        ({"quantity": -2}, "quantity must be a finite number > 0, got -2"),
        ({"quantity": float("nan")}, "got nan"),
        ({"quantity": True}, "got True"),
        ({"quantity": 1, "order_type": OrderType.LIMIT}, "LIMIT order needs a finite price > 0, got None"),
        ({"quantity": 1, "order_type": OrderType.LIMIT, "price": float("inf")}, "got inf"),
        ({"quantity": 1, "order_type": OrderType.STOP}, "STOP order needs a finite stop_price > 0"),
        ({"quantity": 1, "order_type": OrderType.STOP_LIMIT, "stop_price": 5}, "STOP_LIMIT order needs a finite price"),
        ({"quantity": 1, "order_type": "LIMIT"}, "order_type must be an OrderType"),
    ],
)
def test_order_validation_bad_input_raises_order_error(kwargs: dict, message: str) -> None:
    with pytest.raises(OrderError, match=message.replace("(", r"\(")):
        Order(symbol="ES", side=OrderSide.BUY, **kwargs)


def test_order_validation_side_not_enum_raises() -> None:
    with pytest.raises(OrderError, match="side must be an OrderSide"):
        Order(symbol="ES", side="BUY", quantity=1)  # type: ignore[arg-type]


def test_order_id_factory_ids_are_unique_and_prefixed() -> None:
    ids = OrderIdFactory("T")
    made = [ids() for _ in range(1000)]
    assert len(set(made)) == 1000
    assert all(i.startswith("T-") for i in made)


def test_order_remaining_and_signed_quantity_follow_side() -> None:
    order = Order(symbol="ES", side=OrderSide.SELL, quantity=5, filled_quantity=2)
    assert order.remaining == 3
    assert order.signed_quantity == -5
    assert "SELL 5 ES MARKET NEW" in repr(order)
