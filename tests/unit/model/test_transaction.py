"""Transaction lifecycle table."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from trading.errors import InvalidStateTransition
from trading.model import TRANSACTION_STATE_TABLE, OrderSide, Transaction, TransactionStatus

_T = TransactionStatus
LEGAL = {(_T.WAITING, _T.OPENED), (_T.WAITING, _T.CANCELLED), (_T.OPENED, _T.CLOSED)}
WHEN = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


def _txn(status: TransactionStatus) -> Transaction:
    return Transaction(transaction_id="T1", strategy="s", symbol="ES", side=OrderSide.BUY, quantity=1, status=status)


def test_transaction_state_table_matches_the_documented_lifecycle() -> None:
    assert {(s, d) for s, ds in TRANSACTION_STATE_TABLE.items() for d in ds} == LEGAL


@pytest.mark.parametrize(("current", "target"), sorted(LEGAL, key=str))
def test_transaction_transition_legal_move_stamps_time(current: TransactionStatus, target: TransactionStatus) -> None:
    txn = _txn(current)
    txn.transition(target, WHEN)
    assert txn.status is target
    stamped = txn.opened_at if target is _T.OPENED else txn.closed_at
    assert stamped == WHEN


@pytest.mark.parametrize(
    ("current", "target"), [m for m in itertools.product(_T, _T) if m not in LEGAL], ids=str
)
def test_transaction_transition_illegal_move_raises(current: TransactionStatus, target: TransactionStatus) -> None:
    txn = _txn(current)
    with pytest.raises(InvalidStateTransition, match=f"transaction transition {current.name} -> {target.name}"):
        txn.transition(target)
    assert txn.status is current


def test_transaction_status_active_is_waiting_or_opened() -> None:
    assert {s for s in _T if s.is_active} == {_T.WAITING, _T.OPENED}
