"""The bodies of ``/api/Order/place`` and ``/api/Order/modify``, read into typed requests.

Fields from the gateway docs ("Place an Order": ``accountId contractId type side size
limitPrice stopPrice trailPrice customTag stopLossBracket takeProfitBracket``, a bracket being
``{ticks, type}``) and from the request bodies project-x-py 4.4.1 and topstep-client-py 0.1.1
send to ``/api/Order/modify`` (``accountId orderId size limitPrice stopPrice trailPrice``).
Types are checked here (400); what the platform refuses is the engine's business.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tests.fakes.projectx.body import Body
from tests.fakes.projectx.enums import OrderSide, OrderType
from tests.fakes.projectx.errors import ApiRefusal
from tests.fakes.projectx.order import BracketSpec

__all__ = ["ModifyRequest", "PlaceRequest"]


def _enum_value(body: Body, field: str, enum: type[OrderType] | type[OrderSide]) -> Any:
    raw = body.integer(field)
    try:
        return enum(raw)
    except ValueError as exc:
        raise ApiRefusal.invalid(field, f"The JSON value of {field} is not a valid {enum.__name__}.") from exc


def _bracket(body: Body, field: str) -> BracketSpec | None:
    child = body.child(field)
    if child is None:
        return None
    return BracketSpec(child.integer("ticks"), _enum_value(child, "type", OrderType))


@dataclass(frozen=True, slots=True)
class PlaceRequest:
    account_id: int
    contract_id: str
    type: OrderType
    side: OrderSide
    size: int
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail_price: Decimal | None = None
    custom_tag: str | None = None
    stop_loss: BracketSpec | None = None
    take_profit: BracketSpec | None = None

    @classmethod
    def from_body(cls, body: Body) -> PlaceRequest:
        return cls(
            account_id=body.integer("accountId"),
            contract_id=body.text("contractId"),
            type=_enum_value(body, "type", OrderType),
            side=_enum_value(body, "side", OrderSide),
            size=body.integer("size"),
            limit_price=body.optional_decimal("limitPrice"),
            stop_price=body.optional_decimal("stopPrice"),
            trail_price=body.optional_decimal("trailPrice"),
            custom_tag=body.optional_text("customTag"),
            stop_loss=_bracket(body, "stopLossBracket"),
            take_profit=_bracket(body, "takeProfitBracket"),
        )


@dataclass(frozen=True, slots=True)
class ModifyRequest:
    account_id: int
    order_id: int
    size: int | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail_price: Decimal | None = None

    @classmethod
    def from_body(cls, body: Body) -> ModifyRequest:
        return cls(
            account_id=body.integer("accountId"),
            order_id=body.integer("orderId"),
            size=body.optional_integer("size"),
            limit_price=body.optional_decimal("limitPrice"),
            stop_price=body.optional_decimal("stopPrice"),
            trail_price=body.optional_decimal("trailPrice"),
        )
