"""The whole desk (scripts/run_executor.py) guarding a funded futures account on the ProjectX
Gateway, against the local fake (aiohttp and pysignalr for real), with the shipped 50K funded-account preset
(config/presets/funded_50k_eod.yaml) and the trader's own rules on top: the snapshot names the guarded
account, a daily-loss breach made by hand-placed orders ends flat and HALTED within 2 s of the
breaching fill, an open loss on a hand-placed position is stopped on the market hub's quotes
(flat and HALTED within 2 s of the breaching quote, before the trader realized any loss), and
neither the API key nor a session token is in the state directory or the log."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fakes.projectx import FakeProjectX
from tests.integration._desk_run import read_snapshot, snapshot_positions, start_logged_desk, wait_for
from trading.snapshot import Snapshot

API_KEY = "px-fake-api-key-do-not-leak-51f3"
EVAL = "50KTC-V2-FAKE-EVAL"
LIVE = "LIVE-FAKE-FUNDED"

FUNDED_50K = {  # the shipped 50K funded-account preset, the trader's own rules on top
    "preset": "funded_50k_eod",  # daily loss 900 net, end-of-day trailing 1,800, 5 contracts
    "rules": {
        "session_hours": {"enabled": False},  # the test runs at any hour of the day
        "max_contracts": {"limit": 6, "action": "reduce_to_limit"},
    },
    "tamper_lock": False,
}


def _flat_then_halted(fake: FakeProjectX, account: int, state: Path, breach: float) -> Snapshot:
    """Wait for the platform flat, then HALTED on the page, each within 2 s of ``breach`` (a
    ``time.monotonic()``); the HALTED snapshot, its reason the preset's daily loss."""
    wait_for(lambda: not fake.positions(account), 5, "the platform flat", every=0.005)
    flat_after = time.monotonic() - breach
    halted = wait_for(
        lambda: (s := read_snapshot(state)) is not None and s.trading_state == "HALTED" and s, 5, "HALTED"
    )
    halted_after = time.monotonic() - breach
    assert flat_after <= 2.0 and halted_after <= 2.0, (flat_after, halted_after)
    assert "daily_loss" in halted.state_reason
    print(f"breach -> platform flat {flat_after:.3f} s, -> HALTED on the page {halted_after:.3f} s")
    return halted


def _write_configs(tmp_path: Path, fake: FakeProjectX, **broker: Any) -> Path:
    (tmp_path / "risk.yaml").write_text(yaml.safe_dump(FUNDED_50K))
    desk = tmp_path / "desk.yaml"
    desk.write_text(
        yaml.safe_dump(
            {
                "account": {"name": "funded"},
                "instruments": [
                    {"symbol": "ES", "tick_size": 0.25, "multiplier": 50, "commission": 1.40},
                    {"symbol": "MES", "tick_size": 0.25, "multiplier": 5, "commission": 0.37},
                ],
                "feed": {"kind": "broker"},
                "clock": {"speed": 1},
                "loop": {"publish_interval": 0.2, "heartbeat_interval": 0.2},
                "broker": {
                    "kind": "projectx",
                    "account": EVAL,
                    "api_url": fake.base_url,
                    "hub_url": fake.user_hub_url,
                    "poll_interval": 0.5,
                    "blind_after": 5,
                    "hub_silence": 3,
                    "retry_initial": 0.05,
                    "retry_max": 0.5,
                    **broker,
                },
                "risk_config": "risk.yaml",
            }
        )
    )
    return desk


def _credentials(fake: FakeProjectX) -> dict[str, str]:
    return {"PROJECTX_USERNAME": fake.user_name, "PROJECTX_API_KEY": fake.api_key}


@pytest.fixture
def fake() -> Iterator[FakeProjectX]:
    with FakeProjectX(api_key=API_KEY, ping_interval=1.0) as server:
        yield server


@pytest.mark.slow
def test_desk_guards_a_projectx_funded_account_and_flattens_a_hand_made_breach_within_2s(
    tmp_path: Path, fake: FakeProjectX
) -> None:
    account = fake.account_id(EVAL)
    fake.set_price("ES", 5000)
    fake.set_price("MES", 5000)
    fake.place_hand_order(account, "MES", "buy", 2)  # held before the desk starts
    config = _write_configs(tmp_path, fake)
    state = tmp_path / "state"
    proc, log = start_logged_desk(tmp_path, config, _credentials(fake), "--log-level", "DEBUG")
    try:
        snap = wait_for(
            lambda: (s := read_snapshot(state)) is not None and s.extra["broker"].get("connected") and s,
            30,
            "a snapshot with the broker connected",
        )
        assert snap.extra["broker"]["kind"] == "projectx" and snap.trading_state == "ACTIVE"
        assert snap.extra["broker"]["account"] == f"{EVAL} (id {account}, simulated)"
        assert [(p.symbol, p.quantity) for p in snap.positions] == [("MES", 2)]
        fake.place_hand_order(account, "ES", "buy", 2)
        wait_for(lambda: snapshot_positions(state) == 2, 10, "the hand position on the page")
        fake.set_price("ES", 4989.5)

        breach = time.monotonic()
        fake.place_hand_order(account, "ES", "sell", 2)  # realized 2 x -10.5 x 50 = -1050: the preset's 900

        _flat_then_halted(fake, account, state, breach)
        final = wait_for(
            lambda: (s := read_snapshot(state)) is not None and not s.positions and s,
            5,
            "no position on the page",
        )
        balance = Decimal(str(fake.account(account)["balance"]))
        wait_for(
            lambda: (s := read_snapshot(state)) is not None and Decimal(str(s.account.cash)) == balance,
            5,
            "the books' cash at the platform's balance",
        )
        assert final.account.realized_pnl == pytest.approx(-1050.0)  # MES closed at its cost
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
    assert code == 0, log.read_text()[-3000:]
    files = [p for p in [*state.rglob("*"), log] if p.is_file()]
    assert [p for p in files if API_KEY.encode() in p.read_bytes()] == []
    assert (
        b"eyJhbGciOi" not in log.read_bytes()
    )  # no session token (a JWT), not even in pysignalr's URL lines


@pytest.mark.slow
def test_desk_stops_an_open_loss_on_a_hand_position_from_the_market_hubs_quotes_within_2s(
    tmp_path: Path, fake: FakeProjectX
) -> None:
    account = fake.account_id(EVAL)
    fake.set_quote("ES", last=5000, bid=4999.75, ask=5000)
    config = _write_configs(tmp_path, fake)
    state = tmp_path / "state"
    proc, log = start_logged_desk(tmp_path, config, _credentials(fake))
    try:
        wait_for(
            lambda: (s := read_snapshot(state)) is not None and s.extra["broker"].get("connected") and s,
            30,
            "a snapshot with the broker connected",
        )
        assert fake.wait_for_quote_subscription("ES", timeout=10)
        fake.place_hand_order(account, "ES", "buy", 2)  # at the ask, 5000: the trader's own trade
        wait_for(lambda: snapshot_positions(state) == 1, 10, "the hand position on the page")
        fake.set_quote("ES", last=4992.5, bid=4992.25, ask=4992.5)  # open -750 (-752.80 net): inside 900
        marked = wait_for(
            lambda: (
                (s := read_snapshot(state)) is not None
                and s.positions
                and s.positions[0].last_price == 4992.5
                and s
            ),
            5,
            "the position marked at 4992.5 on the page",
        )
        assert marked.trading_state == "ACTIVE"
        assert marked.account.unrealized_pnl == pytest.approx(-750.0)
        assert marked.extra["broker"]["marks"]["ES"]["price"] == 4992.5
        assert [t["profitAndLoss"] for t in fake.trades(account)] == [None]  # nothing realized yet

        breach = time.monotonic()
        fake.set_quote("ES", last=4990.5, bid=4990.25, ask=4990.5)  # open -950: past the preset's 900

        _flat_then_halted(fake, account, state, breach)
        entry, close = fake.trades(account)
        assert (close["side"], close["price"], close["size"]) == (1, 4990.25, 2)  # the desk's flatten
        assert close["orderId"] != entry["orderId"]
        final = wait_for(
            lambda: (s := read_snapshot(state)) is not None and not s.positions and s,
            5,
            "no position on the page",
        )
        assert final.account.realized_pnl == pytest.approx(2 * (4990.25 - 5000) * 50)
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
    assert code == 0, log.read_text()[-3000:]


@pytest.mark.slow
def test_desk_refuses_a_live_projectx_account_without_allow_live(tmp_path: Path, fake: FakeProjectX) -> None:
    config = _write_configs(tmp_path, fake, account=LIVE, allow_live=True)
    proc, log = start_logged_desk(tmp_path, config, _credentials(fake))
    code = proc.wait(timeout=60)
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1, lines
    assert "--allow-live" in lines[0] and LIVE in lines[0]
    assert fake.requests.matching("/api/Order/place") == []
