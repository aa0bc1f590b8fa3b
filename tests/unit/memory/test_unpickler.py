"""The restricted unpickler admits data types and refuses everything that could run code."""

from __future__ import annotations

import decimal
import os
import pickle
import subprocess
from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from trading.errors import UnsafeStateError
from trading.memory import StateManager, restricted_loads
from trading.model import OrderSide, TradingState
from trading.snapshot import AccountView, PositionView, Series, Snapshot


class _Exploit:
    def __init__(self, func: Any, *args: Any) -> None:
        self.func, self.args = func, args

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.func, self.args)


@dataclass(frozen=True)
class _Registered:
    x: int


def _snapshot() -> Snapshot:
    now = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
    account = AccountView(
        cash=1e5,
        equity=1.01e5,
        buying_power=4e5,
        realized_pnl=10.0,
        unrealized_pnl=990.0,
        commissions=2.5,
        starting_balance=1e5,
        daily_realized_pnl=10.0,
        daily_pnl=997.5,
    )
    return Snapshot(
        taken_at=now,
        heartbeat=now.timestamp(),
        desk_pid=123,
        started_at=now - timedelta(hours=1),
        trading_state=TradingState.ACTIVE.name,
        state_reason="",
        paused=False,
        account=account,
        equity_curve=Series(np.arange(1000.0), np.linspace(1e5, 1.01e5, 1000)),
        daily_pnl=Series.empty(),
        positions=(
            PositionView(
                symbol="ES",
                quantity=2,
                avg_price=5000.0,
                last_price=5005.0,
                unrealized_pnl=500.0,
                realized_pnl=0.0,
            ),
        ),
        extra={"side": OrderSide.BUY, "when": now},
    )


def test_unpickler_snapshot_round_trips_through_state_manager(
    manager: StateManager, state_path: Path
) -> None:
    snap = _snapshot()
    manager.set("desk.snapshot", snap)
    manager.save()

    reader = StateManager(state_path)
    reader.load()
    got = reader.get("desk.snapshot")
    reader.close()

    assert got.account == snap.account and got.positions == snap.positions
    np.testing.assert_array_equal(got.equity_curve.values, snap.equity_curve.values)
    assert got.extra["side"] is OrderSide.BUY


@pytest.mark.parametrize(
    "value",
    [
        pd.DataFrame(
            {
                "ts": pd.date_range("2026", periods=5, freq="s", tz="UTC"),
                "sym": list("abcab"),
                "px": np.arange(5.0),
                "cat": pd.Categorical(list("xyxyx")),
                "n": pd.array([1, None, 3, 4, 5], dtype="Int64"),
            }
        ),
        pd.Series([1.0, 2.0], index=pd.Index(["a", "b"]), name="s"),
        pd.MultiIndex.from_tuples([("a", 1), ("b", 2)]),
        pd.Timestamp("2026-01-05 09:30", tz="America/Chicago"),
        pd.NaT,
        np.array([(1.0, 2)], dtype=[("a", "f8"), ("b", "i4")]),
        np.float64(1.5),
        decimal.Decimal("1.25"),
        OrderedDict(a=1),
        deque([1, 2]),
        frozenset({1, 2}),
        datetime(2026, 1, 5, tzinfo=UTC),
    ],
    ids=lambda v: type(v).__name__,
)
def test_unpickler_data_types_are_admitted(value: Any) -> None:
    got = restricted_loads(pickle.dumps(value, protocol=5))

    assert type(got) is type(value)
    if isinstance(value, pd.DataFrame):
        pd.testing.assert_frame_equal(got, value)
    elif isinstance(value, pd.Series):
        pd.testing.assert_series_equal(got, value)
    elif isinstance(value, np.ndarray):
        np.testing.assert_array_equal(got, value)
    elif value is pd.NaT:
        assert got is pd.NaT
    else:
        assert value.equals(got) if isinstance(value, pd.Index) else got == value


@pytest.mark.parametrize(
    ("payload", "named"),
    [
        (_Exploit(os.system, "touch {marker}"), "posix.system"),
        (_Exploit(eval, "open({marker!r}, 'w')"), "builtins.eval"),
        (_Exploit(subprocess.call, ["touch", "{marker}"]), "subprocess.call"),
        (_Exploit(getattr, dict, "fromkeys"), r"builtins.getattr\(type dict, 'fromkeys'\)"),
        (_Exploit(pd.read_pickle, "{marker}"), "pandas.read_pickle"),
    ],
    ids=["os.system", "eval", "subprocess", "getattr", "pandas.read_pickle"],
)
def test_unpickler_code_execution_is_refused_and_nothing_runs(
    tmp_path: Path, payload: _Exploit, named: str
) -> None:
    marker = tmp_path / "pwned"
    payload.args = tuple(a.format(marker=str(marker)) if isinstance(a, str) else a for a in payload.args)
    data = pickle.dumps({"x": payload}, protocol=4)

    with pytest.raises(UnsafeStateError, match=rf"asks for {named}, which is not on the allow-list"):
        restricted_loads(data)

    assert not marker.exists()


def test_unpickler_functools_partial_is_refused() -> None:
    import functools

    data = pickle.dumps(functools.partial(print, "x"))
    with pytest.raises(UnsafeStateError, match=r"functools\.partial"):
        restricted_loads(data)


def test_unpickler_legacy_exploit_file_is_refused_by_load(state_path: Path) -> None:
    marker = state_path.with_name("pwned")
    state_path.write_bytes(pickle.dumps({"x": _Exploit(os.system, f"touch {marker}")}))

    with pytest.raises(UnsafeStateError, match=r"state.pkl asks for posix.system"):
        StateManager(state_path)
    sm = StateManager(state_path, load=False)
    with pytest.raises(UnsafeStateError, match=r"state.pkl asks for posix.system"):
        sm.load()
    sm.close()

    assert not marker.exists()
    assert state_path.exists()  # no backup to recover from: the file stays where it is


def test_unpickler_unregistered_type_is_refused_until_registered(state_path: Path) -> None:
    with StateManager(state_path) as writer:
        writer.set("r", _Registered(3))

    plain = StateManager(state_path)
    plain.load()
    with pytest.raises(UnsafeStateError, match="_Registered"):
        plain.get("r")
    plain.close()

    allowed = StateManager(state_path, allowed_types=(_Registered,))
    allowed.load()
    assert allowed.get("r") == _Registered(3)
    allowed.close()


def test_unpickler_trading_module_non_dataclass_is_refused() -> None:
    data = pickle.dumps(_Exploit(StateManager, "/tmp/x"), protocol=4)
    with pytest.raises(UnsafeStateError, match=r"trading.memory.state_manager.StateManager"):
        restricted_loads(data)
