"""Orders and fills: the broker's history, written by the desk and read by the dashboard
and by a restart (``OrderHistoryRepository``: one transaction's orders and fills as records)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, insert, select

from trading.model import Order, OrderFilled, OrderRole, OrderSide, OrderStatus
from trading.storage._channel import WriterChannel
from trading.storage._codec import from_iso, to_iso
from trading.storage._schema import fills, orders
from trading.storage._sql import check_limit, upsert
from trading.storage.database import Database
from trading.storage.writer import BackgroundWriter

__all__ = ["FillRecord", "FillRepository", "OrderHistoryRepository", "OrderRecord", "OrderRepository"]


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRecord:
    """An order's latest stored state, as a restart reads it."""

    order_id: str
    transaction_id: str | None
    symbol: str
    side: OrderSide
    quantity: float
    role: OrderRole
    status: OrderStatus
    filled_quantity: float
    avg_fill_price: float | None
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FillRecord:
    """One stored fill, as a restart reads it."""

    fill_id: str
    order_id: str
    transaction_id: str | None
    symbol: str
    side: OrderSide
    quantity: float
    price: float
    commission: float
    role: OrderRole
    ts: datetime


_ORDER_TIMES = ("created_at", "updated_at")
_ORDER_COLUMNS = tuple(column.name for column in orders.columns)
_FILL_COLUMNS = tuple(column.name for column in fills.columns if column.name != "id")


class OrderRepository:
    """Every order's latest state, keyed by ``order_id``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def upsert(self, order: Order) -> None:
        values = _order_values(order)
        self._db.write(lambda conn: upsert(conn, orders, values, ["order_id"]))

    @property
    def database(self) -> Database:
        return self._db

    def channel(self, writer: BackgroundWriter) -> WriterChannel:
        """The channel on ``writer`` (this database's) that upserts the ``Order`` objects put on
        it (one per writer, shared); put a copy when the order may change before the writer
        reads it."""
        return writer.channel(
            "orders", orders, _ORDER_COLUMNS, _order_rows, keys=("order_id",), payload=Order
        )

    def get(self, order_id: str) -> dict[str, Any] | None:
        query = select(orders).where(orders.c.order_id == order_id)
        row = self._db.read(lambda conn: conn.execute(query).mappings().first())
        return None if row is None else _order_row(row)

    def recent(self, limit: int = 100) -> list[dict[str, Any]]:
        """Newest first (by creation time)."""
        check_limit(limit)
        query = select(orders).order_by(orders.c.created_at.desc(), orders.c.order_id.desc()).limit(limit)
        rows = self._db.read(lambda conn: conn.execute(query).mappings().all())
        return [_order_row(row) for row in rows]

    def for_transaction(self, transaction_id: str) -> list[OrderRecord]:
        """The transaction's orders, oldest first."""
        query = (
            select(orders)
            .where(orders.c.transaction_id == transaction_id)
            .order_by(orders.c.created_at, orders.c.order_id)
        )
        rows = self._db.read(lambda conn: conn.execute(query).mappings().all())
        return [_order_record(row) for row in rows]

    def __repr__(self) -> str:
        return f"OrderRepository({self._db!r})"


class FillRepository:
    """Every fill, in the order they were added."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, fill: OrderFilled) -> None:
        values = _fill_values(fill)

        def work(conn: Connection) -> None:
            conn.execute(insert(fills).values(**values))

        self._db.write(work)

    @property
    def database(self) -> Database:
        return self._db

    def channel(self, writer: BackgroundWriter) -> WriterChannel:
        """The channel on ``writer`` (this database's) that inserts the ``OrderFilled`` events
        put on it (one per writer, shared)."""
        return writer.channel("fills", fills, _FILL_COLUMNS, _fill_rows, payload=OrderFilled)

    def for_order(self, order_id: str) -> list[dict[str, Any]]:
        query = select(fills).where(fills.c.order_id == order_id).order_by(fills.c.id)
        rows = self._db.read(lambda conn: conn.execute(query).mappings().all())
        return [{**row, "ts": from_iso(row["ts"])} for row in rows]

    def for_transaction(self, transaction_id: str) -> list[FillRecord]:
        """The fills of the transaction's orders, in the order they were added.

        Found through the orders table (both lookups use an index): an order's fills carry
        the order's transaction id, and its row is written before its first fill."""
        ids = select(orders.c.order_id).where(orders.c.transaction_id == transaction_id)
        query = select(fills).where(fills.c.order_id.in_(ids)).order_by(fills.c.id)
        rows = self._db.read(lambda conn: conn.execute(query).mappings().all())
        return [_fill_record(row) for row in rows]

    def __repr__(self) -> str:
        return f"FillRepository({self._db!r})"


class OrderHistoryRepository:
    """One transaction's stored orders and fills: what a restart reconciles its
    transactions with (the ``OrderHistory`` that ``TradeManager.restore`` reads)."""

    def __init__(self, db: Database) -> None:
        self._orders = OrderRepository(db)
        self._fills = FillRepository(db)

    def orders_for(self, transaction_id: str) -> list[OrderRecord]:
        return self._orders.for_transaction(transaction_id)

    def fills_for(self, transaction_id: str) -> list[FillRecord]:
        return self._fills.for_transaction(transaction_id)

    def __repr__(self) -> str:
        return f"OrderHistoryRepository({self._orders!r})"


def _order_values(order: Order) -> dict[str, Any]:
    if not isinstance(order, Order):
        raise TypeError(f"upsert needs an Order, got {type(order).__name__}")
    return {
        "order_id": order.order_id,
        "symbol": order.symbol,
        "side": order.side.value,
        "quantity": float(order.quantity),
        "order_type": order.order_type.value,
        "price": order.price,
        "stop_price": order.stop_price,
        "time_in_force": order.time_in_force.value,
        "strategy": order.strategy,
        "role": order.role.value,
        "reduce_only": bool(order.reduce_only),
        "oco_group": order.oco_group,
        "parent_id": order.parent_id,
        "transaction_id": order.transaction_id,
        "status": order.status.value,
        "filled_quantity": float(order.filled_quantity),
        "avg_fill_price": order.avg_fill_price,
        "created_at": to_iso(order.created_at, field="order.created_at"),
        "updated_at": to_iso(order.updated_at, field="order.updated_at"),
        "reason": order.reason,
    }


def _fill_values(fill: OrderFilled) -> dict[str, Any]:
    if not isinstance(fill, OrderFilled):
        raise TypeError(f"add needs an OrderFilled event, got {type(fill).__name__}")
    return {
        "fill_id": fill.fill_id,
        "order_id": fill.order_id,
        "symbol": fill.symbol,
        "side": fill.side.value,
        "quantity": float(fill.quantity),
        "price": float(fill.price),
        "commission": float(fill.commission),
        "role": fill.role.value,
        "strategy": fill.strategy,
        "transaction_id": fill.transaction_id,
        "ts": to_iso(fill.ts, field="fill.ts"),
    }


def _order_rows(items: list[Order]) -> list[tuple[Any, ...]]:
    rows = []
    for order in items:
        values = _order_values(order)
        rows.append(tuple(values[name] for name in _ORDER_COLUMNS))
    return rows


def _fill_rows(items: list[OrderFilled]) -> list[tuple[Any, ...]]:
    rows = []
    for fill in items:
        values = _fill_values(fill)
        rows.append(tuple(values[name] for name in _FILL_COLUMNS))
    return rows


def _order_row(row: RowMapping) -> dict[str, Any]:
    out = dict(row)
    for name in _ORDER_TIMES:
        out[name] = from_iso(out[name])
    out["reduce_only"] = bool(out["reduce_only"])
    return out


def _order_record(row: RowMapping) -> OrderRecord:
    return OrderRecord(
        order_id=row["order_id"],
        transaction_id=row["transaction_id"],
        symbol=row["symbol"],
        side=OrderSide(row["side"]),
        quantity=row["quantity"],
        role=OrderRole(row["role"]),
        status=OrderStatus(row["status"]),
        filled_quantity=row["filled_quantity"],
        avg_fill_price=row["avg_fill_price"],
        reason=row["reason"],
    )


def _fill_record(row: RowMapping) -> FillRecord:
    ts = from_iso(row["ts"])
    assert ts is not None  # the column is NOT NULL
    return FillRecord(
        fill_id=row["fill_id"],
        order_id=row["order_id"],
        transaction_id=row["transaction_id"],
        symbol=row["symbol"],
        side=OrderSide(row["side"]),
        quantity=row["quantity"],
        price=row["price"],
        commission=row["commission"],
        role=OrderRole(row["role"]),
        ts=ts,
    )
