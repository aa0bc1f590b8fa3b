"""The ProjectX Gateway's JSON shapes: REST bodies and the user hub's event payloads.

Field names, read from the gateway docs (response examples of ``/api/Order/searchOpen``,
``/api/Position/searchOpen``, ``/api/Account/search``, ``/api/Contract/search``) and from the
models of project-x-py 4.4.1 (``models.py``: ``Account``, ``Instrument``, ``Order``,
``Position``, ``Trade``) and topstep-sdk 0.1.4 (``models/*.py``), which agree:

* account: ``id name balance canTrade isVisible simulated``;
* contract: ``id name description tickSize tickValue activeContract symbolId``;
* order: ``id accountId contractId symbolId creationTimestamp updateTimestamp status type side
  size limitPrice stopPrice fillVolume filledPrice customTag``;
* position: ``id accountId contractId creationTimestamp type size averagePrice``;
* trade: ``id accountId contractId creationTimestamp price profitAndLoss fees side size voided
  orderId`` (``profitAndLoss`` null on a half-turn that closed nothing).

Numbers are JSON numbers (the API sends ``5138.000000000``); a ``Decimal`` goes out as the
shortest float that reads back as the same decimal, which holds for prices and money of up
to 15 significant digits. Timestamps are ISO 8601 with microseconds and ``+00:00``, as in
the docs' examples.

The user hub wraps every payload as ``{"action": N, "data": {...}}``: the gateway docs show
the bare entity, but project-x-py 4.4.1 (``position_manager/tracking.py``,
``order_manager/tracking.py``) and topstep-sdk 0.1.4 (``realtime/user_hub.py``: "the docs show
it unwrapped; reality wraps it") both unwrap ``data`` from live events. ``action`` 0 is a
creation and 1 an update (the ProjectX admin API's convention, 2 = delete; inferred here).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tests.fakes.projectx.book import FakeAccount, FakePosition
from tests.fakes.projectx.contracts import ContractSpec
from tests.fakes.projectx.enums import PositionType
from tests.fakes.projectx.order import FakeOrder
from tests.fakes.projectx.trade import FakeTrade

__all__ = [
    "ACTION_CREATED",
    "ACTION_UPDATED",
    "account_json",
    "contract_json",
    "number",
    "order_json",
    "position_json",
    "success",
    "timestamp",
    "trade_json",
]

ACTION_CREATED = 0
ACTION_UPDATED = 1


def number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def success(**fields: Any) -> dict[str, Any]:
    """A successful answer: the operation's own fields, then the envelope."""
    return {**fields, "success": True, "errorCode": 0, "errorMessage": None}


def account_json(account: FakeAccount) -> dict[str, Any]:
    return {
        "id": account.id,
        "name": account.name,
        "balance": number(account.balance),
        "canTrade": account.can_trade,
        "isVisible": account.is_visible,
        "simulated": account.simulated,
    }


def contract_json(spec: ContractSpec) -> dict[str, Any]:
    return {
        "id": spec.id,
        "name": spec.name,
        "description": spec.description,
        "tickSize": number(spec.tick_size),
        "tickValue": number(spec.tick_value),
        "activeContract": spec.active,
        "symbolId": spec.symbol_id,
    }


def order_json(order: FakeOrder) -> dict[str, Any]:
    return {
        "id": order.id,
        "accountId": order.account_id,
        "contractId": order.contract.id,
        "symbolId": order.contract.symbol_id,
        "creationTimestamp": timestamp(order.created_at),
        "updateTimestamp": timestamp(order.updated_at),
        "status": int(order.status),
        "type": int(order.type),
        "side": int(order.side),
        "size": order.size,
        "limitPrice": number(order.limit_price),
        "stopPrice": number(order.stop_price),
        "fillVolume": order.fill_volume,
        "filledPrice": number(order.filled_price),
        "customTag": order.custom_tag,
    }


def position_json(position: FakePosition) -> dict[str, Any]:
    """``size`` is unsigned, the direction is ``type``; a closed position reports size 0 (the
    closing event project-x-py 4.4.1 reads as "closed") and keeps its last type."""
    direction = PositionType.LONG if position.long else PositionType.SHORT
    return {
        "id": position.id,
        "accountId": position.account_id,
        "contractId": position.contract.id,
        "creationTimestamp": timestamp(position.created_at),
        "type": int(direction),
        "size": abs(position.size),
        "averagePrice": number(position.average_price),
    }


def trade_json(trade: FakeTrade) -> dict[str, Any]:
    return {
        "id": trade.id,
        "accountId": trade.account_id,
        "contractId": trade.contract.id,
        "creationTimestamp": timestamp(trade.created_at),
        "price": number(trade.price),
        "profitAndLoss": number(trade.profit_and_loss),
        "fees": number(trade.fees),
        "side": int(trade.side),
        "size": trade.size,
        "voided": trade.voided,
        "orderId": trade.order_id,
    }
