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

__all__ = ["AccountSide", "BrokerBooks", "BrokerSide"]


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


class AccountSide:
    """A broker's account as a reconciliation side: its positions, working orders and cash.

    A venue's side (the ``VenueBroker``'s books after ``open`` reconciled them with the venue's
    REST view) ``wins``: where the journal differs, the journal is made to follow it, one step
    holding the whole account. The paper broker's side does not (it was restored from the
    journal); a test or a simulated venue may make it win.
    """

    def __init__(self, broker: PaperBroker | VenueBroker, *, name: str, wins: bool) -> None:
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
        """Commit the broker's account, positions and working orders as one step. A paper broker
        leaves rows only the journal holds as they are (it wins only in tests, over a journal that
        lacks what it holds); a venue's side also ends what it does not hold."""
        return self._broker.commit_books()

    def __repr__(self) -> str:
        return f"AccountSide({self._name!r}, wins={self._wins})"
