"""A risk file edit refused while the desk runs (tamper lock, invalid file) reaches the snapshot the
dashboard's Risk page shows and the activity log, and the running rules stay."""

from __future__ import annotations

import os

import yaml

from trading.storage import ActivityLog, Database


def _rewrite(path, change) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def _activity(desk, search: str) -> list[str]:
    db = Database(desk.state_dir.database)
    try:
        return [row["message"] for row in ActivityLog(db, clock=desk.clock).recent(search=search)]
    finally:
        db.close()


async def test_desk_loosening_edit_held_by_tamper_lock_shows_in_snapshot_and_activity(make_desk):
    desk = make_desk()
    await desk.run_simulated(2)
    path = desk.risk.config_path

    def loosen(data):
        data["rules"]["daily_realized_loss"] = {"limit": 9_999_999, "action": "alert"}

    _rewrite(path, loosen)
    await desk.run_simulated(2)  # the risk sweep reads the file off the loop and refuses the swap

    status = desk.snapshot().config_status
    assert status.startswith(
        "risk config change refused by the tamper lock: it loosens rules.daily_realized_loss.action "
        "flatten_and_lock -> alert (a milder action loosens); rules.daily_realized_loss.limit 2500 -> 9999999 "
        "(a higher value loosens). It will be accepted at the daily reset, 2026-11-24 17:00 America/Chicago"
    )
    assert desk.risk.engine.rules["daily_realized_loss"].config.limit == 2500
    await desk.shutdown()
    assert _activity(desk, "tamper lock") == [status]


async def test_desk_invalid_risk_edit_shows_in_snapshot_and_activity(make_desk):
    desk = make_desk()
    await desk.run_simulated(2)
    path = desk.risk.config_path

    def typo(data):
        data["rules"]["daily_realized_loss"]["limt"] = data["rules"]["daily_realized_loss"].pop("limit")

    _rewrite(path, typo)
    await desk.run_simulated(2)

    status = desk.snapshot().config_status
    assert status == (
        f"risk config reload refused: {path}: rule 'daily_realized_loss', unknown key 'limt' (did you mean 'limit'?)"
    )
    await desk.shutdown()
    assert _activity(desk, "reload refused") == [status]
