"""Orders and fills: the broker's history, written by the desk and read by the dashboard."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, RowMapping, insert, select

from trading.model import Order, OrderFilled
from trading.storage._channel import WriterChannel
from trading.storage._codec import from_iso, to_iso
from trading.storage._schema import fills, orders
from trading.storage._sql import check_limit, upsert
from trading.storage.database import Database
from trading.storage.writer import BackgroundWriter

__all__ = ["FillRepository", "OrderRepository"]

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

    def __repr__(self) -> str:
        return f"FillRepository({self._db!r})"


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
