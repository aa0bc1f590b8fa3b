"""``JournalReader``: the books as the journal committed them, for a restart and for
whoever recounts from fills (the trade manager, the risk trackers, a reconciliation).

Reads run on pooled connections, each call in one read transaction (a consistent
snapshot), from any thread; they never see a step the journal still holds in memory.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, Select, func, literal_column, select

from trading.errors import StorageError
from trading.model import (
    AccountRecord,
    FillRecord,
    JournalView,
    Order,
    OrderRole,
    OrderSide,
    OrderStatus,
    OrderType,
    PositionRecord,
    TimeInForce,
    to_money,
)
from trading.storage._codec import from_iso, to_iso
from trading.storage._schema import account as account_table
from trading.storage._schema import activity, fills, orders, positions, rule_state, violations
from trading.storage.database import Database

__all__ = ["JournalReader"]

_OPEN = tuple(s.value for s in OrderStatus if s.is_open)


class JournalReader:
    """Reads the journal of account ``account`` in ``db``."""

    def __init__(self, db: Database, *, account: str = "paper") -> None:
        self._db = db
        self._account = account
        # Orders made in one step share created_at: SQLite's rowid keeps their submission order.
        self._submitted = (
            orders.c.created_at,
            literal_column("rowid") if db.is_sqlite else orders.c.order_id,
        )

    def load(self) -> JournalView:
        """The account row (None when the journal has no books yet), every position row and
        the working orders (those whose status is open), all from one snapshot."""

        def work(conn: Connection) -> JournalView:
            return JournalView(
                account=self._account_in(conn),
                positions=tuple(
                    _position(row)
                    for row in conn.execute(select(positions).order_by(positions.c.symbol)).mappings()
                ),
                working_orders=tuple(
                    _order(row)
                    for row in conn.execute(
                        select(orders).where(orders.c.status.in_(_OPEN)).order_by(*self._submitted)
                    ).mappings()
                ),
            )

        return self._db.read(work)

    def account(self) -> AccountRecord | None:
        """The account row, or None when the journal has no books yet."""
        return self._db.read(self._account_in)

    def account_names(self) -> list[str]:
        """Every account that has books in this database (not only this reader's), sorted."""
        query = select(account_table.c.name).order_by(account_table.c.name)
        return list(self._db.read(lambda conn: conn.execute(query).scalars().all()))

    def latest_time(self) -> datetime | None:
        """The newest desk time on record: an order's last change, a fill, a rule's saved state,
        the last violation and the last activity line; None when there is none. A restarted
        desk resumes its clock from no earlier than this (its heartbeat may be older)."""

        def work(conn: Connection) -> list[str | None]:
            return [
                conn.execute(select(func.max(orders.c.updated_at))).scalar(),
                conn.execute(select(func.max(fills.c.ts))).scalar(),
                conn.execute(select(func.max(rule_state.c.updated_at))).scalar(),
                conn.execute(select(violations.c.ts).order_by(violations.c.id.desc()).limit(1)).scalar(),
                conn.execute(select(activity.c.ts).order_by(activity.c.id.desc()).limit(1)).scalar(),
            ]

        times = [t for t in (from_iso(v) for v in self._db.read(work)) if t is not None]
        return max(times, default=None)

    def _account_in(self, conn: Connection) -> AccountRecord | None:
        query = select(account_table).where(account_table.c.name == self._account)
        row = conn.execute(query).mappings().first()
        if row is None:
            return None
        return AccountRecord(
            starting_balance=to_money(row["starting_balance"]),
            realized_pnl=to_money(row["realized_pnl"]),
            commissions=to_money(row["commissions"]),
            last_fill_id=row["last_fill_id"],
            updated_at=from_iso(row["updated_at"]),
        )

    def fills(
        self,
        *,
        order_id: str | None = None,
        transaction_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[FillRecord]:
        """Fills in the order they were booked, narrowed to an order, a transaction and/or
        a time range (``since <= ts < until``)."""
        query: Select[Any] = select(fills).order_by(fills.c.id)
        if order_id is not None:
            query = query.where(fills.c.order_id == order_id)
        if transaction_id is not None:
            query = query.where(fills.c.transaction_id == transaction_id)
        if since is not None:
            query = query.where(fills.c.ts >= to_iso(since, field="since"))
        if until is not None:
            query = query.where(fills.c.ts < to_iso(until, field="until"))
        return [_fill(row) for row in self._db.read(lambda conn: conn.execute(query).mappings().all())]

    def orders(self, *, transaction_id: str | None = None, ids: Iterable[str] | None = None) -> list[Order]:
        """Orders in their latest committed state (any status), oldest first, narrowed to a
        transaction and/or to ``ids``."""
        query: Select[Any] = select(orders).order_by(*self._submitted)
        if transaction_id is not None:
            query = query.where(orders.c.transaction_id == transaction_id)
        if ids is not None:
            query = query.where(orders.c.order_id.in_(list(ids)))
        return [_order(row) for row in self._db.read(lambda conn: conn.execute(query).mappings().all())]

    def __repr__(self) -> str:
        return f"JournalReader({self._account!r}, {self._db!r})"


def _position(row: RowMapping) -> PositionRecord:
    return PositionRecord(
        symbol=row["symbol"],
        quantity=float(row["quantity"]),
        avg_price=float(row["avg_price"]),
        cost_basis=to_money(row["cost_basis"]),
        realized_pnl=to_money(row["realized_pnl"]),
        commissions=to_money(row["commissions"]),
        last_price=row["last_price"],
        opened_at=from_iso(row["opened_at"]),
        updated_at=from_iso(row["updated_at"]),
        strategies=tuple(json.loads(row["strategies"])),
    )


def _fill(row: RowMapping) -> FillRecord:
    exact = row["commission_exact"]
    realized = row["realized_pnl"]
    ts = from_iso(row["ts"])
    assert ts is not None  # the column is NOT NULL
    return FillRecord(
        fill_id=row["fill_id"],
        order_id=row["order_id"],
        symbol=row["symbol"],
        side=OrderSide(row["side"]),
        quantity=float(row["quantity"]),
        price=float(row["price"]),
        commission=to_money(row["commission"] if exact is None else exact),
        realized_pnl=None if realized is None else to_money(realized),
        position_quantity=row["position_quantity"],
        role=OrderRole(row["role"]),
        strategy=row["strategy"],
        transaction_id=row["transaction_id"],
        ts=ts,
    )


def _order(row: RowMapping) -> Order:
    try:
        return Order(
            order_id=row["order_id"],
            symbol=row["symbol"],
            side=OrderSide(row["side"]),
            quantity=float(row["quantity"]),
            order_type=OrderType(row["order_type"]),
            price=row["price"],
            stop_price=row["stop_price"],
            time_in_force=TimeInForce(row["time_in_force"]),
            strategy=row["strategy"],
            role=OrderRole(row["role"]),
            reduce_only=bool(row["reduce_only"]),
            oco_group=row["oco_group"],
            parent_id=row["parent_id"],
            transaction_id=row["transaction_id"],
            status=OrderStatus(row["status"]),
            filled_quantity=float(row["filled_quantity"]),
            avg_fill_price=row["avg_fill_price"],
            triggered=bool(row["triggered"]),
            created_at=from_iso(row["created_at"]),
            updated_at=from_iso(row["updated_at"]),
            reason=row["reason"],
        )
    except (ValueError, TypeError) as exc:
        raise StorageError(f"orders row {row['order_id']!r} cannot be read: {exc}") from exc
