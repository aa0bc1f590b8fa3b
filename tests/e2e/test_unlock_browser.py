"""The manual unlock policy in a real browser: the launcher with a live desk, a users file and a
daily-loss lockout of today (its row written through the desk's own repository while the desk
was stopped; the desk restores it at start, as after a restart). An operator's Unlock is refused
under ``manual_unlock: never`` with when the lock ends, and allowed under ``with_reason`` with a
reason; both decisions are in the audit."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts.run_live_dashboard import DashboardRunner
from tests.integration._desk_run import write_configs
from tests.unit.dashboard.conftest import PASSWORDS, write_users
from trading.state_dir import StateDir
from trading.storage import AuditRepository, Database, LockoutRepository

from .conftest import Browser, assert_clean, free_port, needs_chromium, settle

pytestmark = [pytest.mark.slow, pytest.mark.browser, needs_chromium]

START = datetime(2026, 1, 6, 15, 0, tzinfo=UTC)  # a Tuesday, 09:00 in Chicago: the reset is at 17:00
LOSS_REASON = "daily realized loss -1,250.00 <= -1,000.00"
REASON = "news spike reviewed with the risk desk, size halved"


@dataclass
class LockedDesk:
    root: Path
    users: Path
    config: Path
    runner: DashboardRunner | None = None

    @property
    def state(self) -> Path:
        return self.root / "data"

    def start(self, policy: str) -> DashboardRunner:
        risk = self.config.parent / "risk.yaml"
        data = yaml.safe_load(risk.read_text())
        data["manual_unlock"] = policy
        risk.write_text(yaml.safe_dump(data))
        self.runner = DashboardRunner(
            port=free_port(),
            refresh_interval=30,  # no page refresh racing the clicks; the command status has its own
            state_dir=self.state,
            executor=True,
            config=self.config,
            users_file=self.users,
            unhealthy_after=120.0,
            startup_timeout=120.0,
        )
        assert self.runner.start(), self.runner.get_status().problem
        return self.runner

    def stop(self) -> None:
        if self.runner is not None:
            self.runner.stop()
            self.runner = None

    def audit(self) -> list[tuple[str, str, str, str]]:
        with Database(StateDir(self.state).database) as db:
            rows = AuditRepository(db).recent(limit=50)
        return [(a["action"], a["rule"], a["reason"], a["result"]) for a in rows if a["action"] == "unlock"]


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LockedDesk]:
    """A desk that ran once (its books made), then got today's daily-loss lockout of the account."""
    root = tmp_path_factory.mktemp("unlock")
    config = write_configs(
        root / "config",
        desk={"clock": {"speed": 1, "start": START.isoformat()}, "strategies": []},
        rules={"daily_realized_loss": {"limit": 1000}},
    )
    desk = LockedDesk(root, write_users(root / "users.yaml"), config)
    try:
        desk.start("never")
        desk.stop()
        with Database(StateDir(desk.state).database) as db:
            LockoutRepository(db).save(
                scope="account",
                rule="daily_realized_loss",
                reason=LOSS_REASON,
                started_at=START + timedelta(seconds=1),
                until=None,
            )
        yield desk
    finally:
        desk.stop()


async def _unlock(browser: Browser, runner: DashboardRunner, reason: str) -> Any:
    page = await browser.page()
    await page.goto(f"{runner.url}/controls", timeout=90_000)
    await page.get_by_role("textbox", name="User name").fill("alice", timeout=90_000)
    await page.get_by_role("textbox", name="Password").fill(PASSWORDS["alice"])
    await page.get_by_role("button", name="Log in").click()
    await page.get_by_text("commands are recorded as requested by alice (login)").wait_for(timeout=90_000)
    await settle(page)
    await page.get_by_role("textbox", name="unlock reason").fill(reason)
    await page.get_by_role("button", name="Unlock", exact=True).click()
    await page.get_by_role("button", name="Confirm:").click(timeout=30_000)
    return page


async def test_unlock_daily_loss_refused_under_never_then_allowed_with_reason(
    locked: LockedDesk, browser: Browser
) -> None:
    # Act: under never, the operator asks to unlock with a good reason
    runner = locked.start("never")
    page = await _unlock(browser, runner, REASON)
    # the command's status line (and, once the table redraws, its row in the commands table)
    refused = page.get_by_text("unlock refused: the account lockout by the loss rule daily_realized_loss").first
    await refused.wait_for(timeout=90_000)
    shown = await refused.inner_text()
    await assert_clean(page)
    locked.stop()

    # Act: the risk file now says with_reason; the desk starts with it and the lockout again
    runner = locked.start("with_reason")
    page = await _unlock(browser, runner, REASON)
    await page.get_by_text(f"unlock (reason: {REASON}) by alice: done: account unlocked").wait_for(
        timeout=90_000
    )
    await assert_clean(page)
    audit = locked.audit()

    # Assert
    assert (
        "is kept by manual_unlock: never (risk.yaml); it ends at the daily reset, 2026-01-06 17:00" in shown
    )
    assert [(action, rule, reason) for action, rule, reason, _ in audit] == [
        ("unlock", "operator:alice", REASON),
        ("unlock", "operator:alice", REASON),
    ]
    assert audit[0][3] == "account unlocked"  # newest first
    assert audit[1][3].startswith("unlock refused: the account lockout by the loss rule daily_realized_loss")
