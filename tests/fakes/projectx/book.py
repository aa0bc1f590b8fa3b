"""The accounts of the fake platform: balances, flags and open futures positions.

A fill changes one position (net, one per account and contract) and the balance:

* opening or adding: the average price is the size-weighted mean of the fills;
* reducing or closing: realized P&L = (fill - average) * closed contracts * point value
  (negated for a short); a fill that crosses zero closes the old position (size 0, its id ends)
  and opens a new one at the fill price with a new id;
* every fill pays ``fee_per_side * contracts``; the balance moves by realized P&L - fees.

Money is exact (``Decimal``). The API's account has no equity or unrealized P&L field, so the
book keeps none.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from tests.fakes.projectx.contracts import ContractSpec
from tests.fakes.projectx.order import PRICE_QUANTUM

__all__ = ["AccountBook", "AccountSetup", "FakeAccount", "FakePosition", "FillOutcome"]

FIRST_ACCOUNT_ID = 1001
FIRST_POSITION_ID = 5001


@dataclass(frozen=True, slots=True)
class AccountSetup:
    """An account the fake starts with. ``simulated`` is the API's flag: evaluation and
    practice accounts are simulated, a live funded account is not."""

    name: str
    balance: Decimal = Decimal(50_000)
    simulated: bool = True
    can_trade: bool = True
    is_visible: bool = True
    active: bool = True


@dataclass(slots=True)
class FakeAccount:
    id: int
    name: str
    balance: Decimal
    can_trade: bool
    is_visible: bool
    simulated: bool
    active: bool


@dataclass(frozen=True, slots=True)
class FakePosition:
    id: int
    account_id: int
    contract: ContractSpec
    size: int  # signed: long > 0, short < 0; 0 once closed
    average_price: Decimal
    created_at: datetime
    long: bool  # its direction, for life: a fill that crosses zero opens a new position


@dataclass(frozen=True, slots=True)
class FillOutcome:
    changed: tuple[FakePosition, ...]  # positions as they are after the fill, in event order
    realized: Decimal | None  # None when the fill closed nothing
    fees: Decimal


def _sign(value: int) -> int:
    return (value > 0) - (value < 0)


class AccountBook:
    def __init__(self, setups: Iterable[AccountSetup]) -> None:
        self._accounts: dict[int, FakeAccount] = {}
        for offset, setup in enumerate(setups):
            account_id = FIRST_ACCOUNT_ID + offset
            self._accounts[account_id] = FakeAccount(
                account_id,
                setup.name,
                Decimal(setup.balance),
                setup.can_trade,
                setup.is_visible,
                setup.simulated,
                setup.active,
            )
        if not self._accounts:
            raise ValueError("the fake needs at least one account")
        self._positions: dict[tuple[int, str], FakePosition] = {}
        self._next_position_id = FIRST_POSITION_ID

    def __repr__(self) -> str:
        return f"AccountBook(accounts={list(self._accounts)}, open_positions={len(self._positions)})"

    def account(self, account_id: int) -> FakeAccount | None:
        return self._accounts.get(account_id)

    def accounts(self, *, only_active: bool = False) -> list[FakeAccount]:
        return [a for a in self._accounts.values() if a.active or not only_active]

    def position(self, account_id: int, contract_id: str) -> FakePosition | None:
        return self._positions.get((account_id, contract_id))

    def positions(self, account_id: int) -> list[FakePosition]:
        return [p for (owner, _), p in self._positions.items() if owner == account_id]

    def apply_fill(
        self, account_id: int, contract: ContractSpec, signed_qty: int, price: Decimal, now: datetime
    ) -> FillOutcome:
        account = self._accounts[account_id]
        key = (account_id, contract.id)
        current = self._positions.get(key)
        fees = contract.fee_per_side * abs(signed_qty)
        realized: Decimal | None = None
        changed: list[FakePosition]
        if current is None:
            opened = self._open(account_id, contract, signed_qty, price, now)
            changed = [opened]
        elif _sign(current.size) == _sign(signed_qty):
            size = current.size + signed_qty
            average = (current.average_price * abs(current.size) + price * abs(signed_qty)) / abs(size)
            changed = [replace(current, size=size, average_price=average.quantize(PRICE_QUANTUM).normalize())]
        else:
            closed_qty = min(abs(signed_qty), abs(current.size))
            realized = (
                (price - current.average_price) * closed_qty * contract.point_value * _sign(current.size)
            )
            size = current.size + signed_qty
            if size == 0 or _sign(size) == _sign(current.size):
                changed = [replace(current, size=size)]
            else:
                changed = [replace(current, size=0), self._open(account_id, contract, size, price, now)]
        latest = changed[-1]
        if latest.size == 0:
            self._positions.pop(key, None)
        else:
            self._positions[key] = latest
        account.balance += (realized or Decimal(0)) - fees
        return FillOutcome(tuple(changed), realized, fees)

    def _open(
        self, account_id: int, contract: ContractSpec, size: int, price: Decimal, now: datetime
    ) -> FakePosition:
        position = FakePosition(self._next_position_id, account_id, contract, size, price, now, long=size > 0)
        self._next_position_id += 1
        return position
