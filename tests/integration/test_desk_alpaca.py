"""The whole desk (scripts/run_executor.py) guarding an Alpaca paper account, against the local
fake server with the real alpaca-py SDK: the snapshot shows the broker's account, a daily-loss
breach made by hand-placed orders ends flat and HALTED within 2 s of the breaching fill, and the
API secret is nowhere in the state directory or the logs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fakes.alpaca import FakeAlpaca
from tests.integration._desk_run import (
    EXECUTOR,
    ROOT,
    read_snapshot,
    snapshot_positions,
    start_logged_desk,
    wait_for,
)

SECRET = "fake-secret-do-not-leak-7d0c"


def _write_configs(tmp_path: Path, fake: FakeAlpaca, **broker: Any) -> Path:
    risk = tmp_path / "risk.yaml"
    risk.write_text(
        yaml.safe_dump(
            {
                "rules": {"daily_realized_loss": {"limit": 100, "action": "flatten_and_lock"}},
                "tamper_lock": False,
            }
        )
    )
    desk = tmp_path / "desk.yaml"
    desk.write_text(
        yaml.safe_dump(
            {
                "account": {"name": "guarded"},
                "instruments": [{"symbol": "AAPL", "tick_size": 0.01, "asset_class": "STOCK"}],
                "feed": {"kind": "broker"},
                "clock": {"speed": 1},
                "loop": {"publish_interval": 0.2, "heartbeat_interval": 0.2},
                "broker": {
                    "kind": "alpaca",
                    "paper": True,
                    "url": fake.base_url,
                    "stream_url": fake.stream_url,
                    "poll_interval": 0.5,
                    "blind_after": 5,
                    "retry_initial": 0.05,
                    "retry_max": 0.5,
                    **broker,
                },
                "risk_config": "risk.yaml",
            }
        )
    )
    return desk


def _credentials(fake: FakeAlpaca) -> dict[str, str]:
    return {"APCA_API_KEY_ID": fake.key_id, "APCA_API_SECRET_KEY": fake.secret_key}


@pytest.fixture
def fake() -> Iterator[FakeAlpaca]:
    with FakeAlpaca(key_id="PKTESTDESK00000000", secret_key=SECRET) as server:
        yield server


@pytest.mark.slow
def test_desk_guards_an_alpaca_account_and_flattens_a_hand_made_breach_within_2s(
    tmp_path: Path, fake: FakeAlpaca
) -> None:
    fake.set_price("AAPL", 100)
    fake.set_price("MSFT", 50)
    fake.place_hand_order("MSFT", "buy", 10)  # held before the desk starts
    config = _write_configs(tmp_path, fake)
    state = tmp_path / "state"
    proc, log = start_logged_desk(tmp_path, config, _credentials(fake), "--log-level", "DEBUG")
    try:
        snap = wait_for(
            lambda: (s := read_snapshot(state)) is not None and s.extra["broker"].get("connected") and s,
            30,
            "a snapshot with the broker connected",
        )
        assert snap.extra["broker"]["kind"] == "alpaca" and snap.trading_state == "ACTIVE"
        assert [(p.symbol, p.quantity) for p in snap.positions] == [("MSFT", 10)]
        fake.place_hand_order("AAPL", "buy", 100)
        wait_for(lambda: snapshot_positions(state) == 2, 10, "the hand position on the page")
        fake.set_price("AAPL", 98.5)

        breach = time.monotonic()
        fake.place_hand_order("AAPL", "sell", 100)  # fills at once: realized -150, the limit is 100

        wait_for(lambda: not fake.positions(), 5, "the venue flat", every=0.005)
        flat_after = time.monotonic() - breach
        halted = wait_for(
            lambda: (s := read_snapshot(state)) is not None and s.trading_state == "HALTED" and s, 5, "HALTED"
        )
        halted_after = time.monotonic() - breach
        assert flat_after <= 2.0 and halted_after <= 2.0, (flat_after, halted_after)
        assert "daily_realized_loss" in halted.state_reason
        final = wait_for(
            lambda: (s := read_snapshot(state)) is not None and not s.positions and s,
            5,
            "no position on the page",
        )
        figures = fake.figures()
        assert Decimal(str(final.account.cash)) == figures.cash
        assert final.account.equity == pytest.approx(float(figures.equity))
        assert final.account.realized_pnl == -150.0  # the AAPL round trip; MSFT closed at its cost
        print(f"breaching fill -> venue flat {flat_after:.3f} s, -> HALTED on the page {halted_after:.3f} s")
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
    assert code == 0, log.read_text()[-3000:]
    leaked = [p for p in [*state.rglob("*"), log] if p.is_file() and SECRET.encode() in p.read_bytes()]
    assert leaked == []
    assert fake.key_id.encode() not in log.read_bytes()


@pytest.mark.slow
def test_desk_refuses_a_live_account_without_allow_live(tmp_path: Path, fake: FakeAlpaca) -> None:
    config = _write_configs(tmp_path, fake, paper=False, allow_live=True)
    proc, log = start_logged_desk(tmp_path, config, _credentials(fake))
    code = proc.wait(timeout=60)
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1, lines
    assert "--allow-live" in lines[0]
    assert fake.requests.all() == []


@pytest.mark.slow
def test_desk_refuses_to_start_without_the_api_keys(tmp_path: Path, fake: FakeAlpaca) -> None:
    config = _write_configs(tmp_path, fake)
    env = {k: v for k, v in os.environ.items() if not k.startswith("APCA_")}
    result = subprocess.run(
        [sys.executable, str(EXECUTOR), "--config", str(config), "--state", str(tmp_path / "state")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "APCA_API_KEY_ID and APCA_API_SECRET_KEY not set" in result.stderr
