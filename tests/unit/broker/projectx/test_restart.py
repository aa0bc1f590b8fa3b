"""A restart with positions open on the platform, the live-account consent, and secrets that
never reach the journal, the audit trail or the logs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.fakes.projectx import FakeProjectX
from tests.unit.broker.projectx.conftest import LIVE, Harness
from trading.errors import ConfigError
from trading.model import Order, OrderSide, OrderType
from trading.storage import Database


async def test_restart_with_positions_open_on_the_platform_restores_them(
    fake: FakeProjectX,
    make_harness,  # type: ignore[no-untyped-def]
) -> None:
    first: Harness = make_harness()
    account = first.account_id
    fake.set_price("ES", 5000)
    fake.set_price("MES", 5000)
    await first.start()
    first.broker.submit(Order(symbol="ES", side=OrderSide.BUY, quantity=2, order_type=OrderType.MARKET))
    await first.wait_for(lambda: "ES" in first.broker.positions())
    await first.stop()
    fake.place_hand_order(account, "MES", "sell", 4)  # while the desk is down
    fake.place_hand_order(account, "ES", "buy", 1, stop_loss_ticks=-20)

    second: Harness = make_harness()
    await second.start()

    held = {s: p.quantity for s, p in second.broker.positions().items()}
    assert held == {"ES": 3, "MES": -4}
    report = second.broker.reconciliations()[0]
    assert report.trigger == "start"
    assert [o["type"] for o in fake.open_orders(account)] == [4]  # the hand bracket's stop
    assert [o.order_type for o in second.broker.open_orders()] == [OrderType.STOP]  # booked, as manual
    assert float(second.broker.account().cash) == pytest.approx(fake.account(account)["balance"])


def test_live_account_refused_without_allow_live(fake: FakeProjectX, db: Database) -> None:
    with pytest.raises(ConfigError, match="live account: set allow_live: true"):
        Harness(fake, db, account=LIVE)
    with pytest.raises(ConfigError, match="started with --allow-live"):
        Harness(fake, db, account=LIVE, allow_live=True)


async def test_live_account_guarded_with_both_consents(fake: FakeProjectX, db: Database) -> None:
    harness = Harness(fake, db, account=LIVE, consent=True, allow_live=True)
    try:
        await harness.start()
        assert harness.broker.status()["account"] == f"{LIVE} (id {fake.account_id(LIVE)}, LIVE)"
    finally:
        await harness.stop()


def test_unknown_account_names_the_users_accounts(fake: FakeProjectX, db: Database) -> None:
    with pytest.raises(
        ConfigError, match=r"no account 'NOPE' for this user \(accounts: 50KTC-V2-FAKE-EVAL, LIVE"
    ):
        Harness(fake, db, account="NOPE")


async def test_api_key_and_tokens_never_in_logs_journal_or_audit(
    harness: Harness, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake = harness.fake
    fake.set_price("ES", 5000)
    await harness.start()
    fake.expire_tokens()
    fake.place_hand_order(harness.account_id, "ES", "buy", 1)
    await harness.wait_for(lambda: "ES" in harness.broker.positions())
    harness.broker.flatten_all("flatten: test")
    await harness.wait_for(lambda: not fake.positions(harness.account_id))
    await harness.stop()

    tokens = [r.token_id for r in fake.requests.all() if r.token_id]
    assert tokens
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files
    for secret in (fake.api_key, *tokens):
        assert secret not in caplog.text
        assert not [p for p in files if secret.encode() in p.read_bytes()]
