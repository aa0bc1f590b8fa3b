"""The other side of a restart's reconciliation: a broker's own view of the account.

The journal is what the desk wrote; a broker's view is what the venue holds. ``Reconciler``
compares the two. A side that ``wins`` is a venue whose word is final (a real broker's REST
view: Alpaca, ProjectX): where it differs from the journal, the journal is made to follow it
(``adopt``). The paper broker does not win: it is restored from the journal, so it is the
journal's own image, and a difference is a restore fault to report, not a fact to adopt.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol, runtime_checkable

from trading.broker import PaperBroker
from trading.broker.venue import VenueBroker

__all__ = ["BrokerBooks", "BrokerSide", "PaperSide", "VenueSide"]


@dataclass(frozen=True, slots=True, kw_only=True)
class BrokerBooks:
    """An account as one side sees it: open positions (symbol -> signed quantity, flat ones
    left out), the ids of the working orders, and the cash (None: this side does not say)."""

    positions: Mapping[str, float] = field(default_factory=dict)
    working_orders: frozenset[str] = frozenset()
    cash: Decimal | None = None


@runtime_checkable
class BrokerSide(Protocol):
    """A broker's view, for ``Reconciler``."""

    @property
    def name(self) -> str:
        """How the report names this side ("paper broker", "alpaca")."""
        ...

    @property
    def wins(self) -> bool:
        """True when this side's view is final and the journal follows it."""
        ...

    def books(self) -> BrokerBooks:
        """The account as this side holds it now."""
        ...

    def adopt(self) -> str | None:
        """Make the journal hold this side's books (one journal step); None when written,
        else the journal's problem. Called only for a side that ``wins``."""
        ...


class PaperSide:
    """The paper broker as a reconciliation side. ``wins`` is False by default (it was restored
    from the journal); a test or a simulated venue may make it win."""

    def __init__(self, broker: PaperBroker, *, name: str = "paper broker", wins: bool = False) -> None:
        self._broker = broker
        self._name = name
        self._wins = wins

    @property
    def name(self) -> str:
        return self._name

    @property
    def wins(self) -> bool:
        return self._wins

    def books(self) -> BrokerBooks:
        broker = self._broker
        return BrokerBooks(
            positions={s: p.quantity for s, p in broker.positions().items()},
            working_orders=frozenset(o.order_id for o in broker.open_orders()),
            cash=broker.account().cash,
        )

    def adopt(self) -> str | None:
        """Commit the paper broker's account, positions and working orders as one step. Rows
        only the journal holds are left as they are (a paper broker wins only in tests, over a
        journal that lacks what it holds; a venue's side must also end what it does not hold)."""
        return self._broker.commit_books()

    def __repr__(self) -> str:
        return f"PaperSide({self._name!r}, wins={self._wins})"


class VenueSide:
    """A venue's account as a reconciliation side: the ``VenueBroker``'s books after ``open``
    reconciled them with the venue's REST view. It wins: where the journal differs, the
    journal is made to follow it (one step holding the whole account)."""

    def __init__(self, broker: VenueBroker, *, name: str) -> None:
        self._broker = broker
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    @property
    def wins(self) -> bool:
        return True

    def books(self) -> BrokerBooks:
        broker = self._broker
        return BrokerBooks(
            positions={s: p.quantity for s, p in broker.positions().items()},
            working_orders=frozenset(o.order_id for o in broker.open_orders()),
            cash=broker.account().cash,
        )

    def adopt(self) -> str | None:
        return self._broker.commit_books()

    def __repr__(self) -> str:
        return f"VenueSide({self._name!r})"
