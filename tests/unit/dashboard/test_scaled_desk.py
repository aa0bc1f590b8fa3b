"""A real desk on a 10x ScaledClock whose time is far from the wall clock: the dashboard's
countdowns run on the desk's clock, so a 120 s cooldown starts at no more than 120 s."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from trading.clock import ScaledClock
from trading.desk import Desk
from trading.model import Severity
from trading.risk import Violation
from trading.risk.actions import Cooldown

from .conftest import ROOT, frame, glance, run_page


def _seconds(text: str) -> int:
    """ "ends in 1m 58s" / "1m 58s left" -> 118."""
    found = re.search(r"(?:(\d+)h )?(\d+)m (\d+)s", text)
    assert found is not None, text
    hours, minutes, seconds = (int(g or 0) for g in found.groups())
    return hours * 3600 + minutes * 60 + seconds


async def test_scaled_desk_cooldown_countdown_starts_at_most_120_s(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Arrange: the desk's clock 45 minutes ahead of the wall clock and running 10x
    clock = ScaledClock(10, start=datetime.now(UTC) + timedelta(minutes=45))
    desk = Desk.from_files(ROOT / "config" / "desk.yaml", state_dir=tmp_path, clock=clock)
    try:
        cooldown = Violation(
            ts=clock.now(),
            rule="cooldown_after_loss",
            message="losing trade -679.00 on ES: no new entries for 2 min",
            remedy=Cooldown(seconds=120.0),
            severity=Severity.WARNING,
        )
        desk.risk.enforcer.enforce(cooldown)
        desk.risk.engine.refresh_state()
        await desk.publish()
        desk.write_heartbeat()
        monkeypatch.setenv("DESK_STATE_DIR", str(tmp_path))

        # Act
        risk = run_page("risk")
        overview = run_page("overview")

        # Assert: what is left of 120 desk seconds, never wall time against desk time
        lockouts = frame(risk, "scope", "remaining").set_index("scope")
        on_risk = _seconds(lockouts.loc["account", "remaining"])
        on_overview = _seconds(glance(overview)["lockout"])
        assert 0 < on_risk <= 120 and 0 < on_overview <= 120
    finally:
        await desk.shutdown()
