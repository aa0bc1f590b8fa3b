"""The broker line under the state banner: which account the desk guards, and blindness."""

from __future__ import annotations

import dataclasses

from streamlit.testing.v1 import AppTest

from dashboard.broker_line import broker_line
from dashboard.money import Tone
from tests.unit.dashboard.conftest import APP, DeskState
from trading.memory import StateManager
from trading.snapshot import SNAPSHOT_KEY
from trading.state_dir import StateDir

ALPACA = {
    "kind": "alpaca",
    "account": "PA3X7Q (paper)",
    "connected": True,
    "blind": False,
    "down_since": None,
    "reason": "",
    "flattening": False,
}


def test_broker_line_paper_and_old_snapshot_say_simulated() -> None:
    assert broker_line({"broker": {"kind": "paper"}}).text == "paper broker (simulated account)"
    assert broker_line({}).text == "paper broker (simulated account)"


def test_broker_line_venue_names_the_guarded_account_connected() -> None:
    line = broker_line({"broker": ALPACA})

    assert line.text == "guarding alpaca account PA3X7Q (paper) · connected"
    assert line.tone is Tone.GOOD and line.warning == ""


def test_broker_line_blind_venue_warns_reducing_with_since_and_reason() -> None:
    status = {**ALPACA, "connected": False, "blind": True, "down_since": "2026-11-30T14:02:00+00:00"}
    line = broker_line({"broker": {**status, "reason": "stream connection lost"}})

    assert line.text.endswith("· BLIND") and line.tone is Tone.BAD
    assert line.warning == (
        "The desk cannot see alpaca account PA3X7Q (paper) (since 2026-11-30T14:02:00+00:00: "
        "stream connection lost); the account is REDUCING (no new entries from the desk) until it is seen again."
    )


def test_broker_line_reconnecting_and_flattening_are_amber() -> None:
    down = broker_line({"broker": {**ALPACA, "connected": False, "reason": "stream down"}})
    flattening = broker_line({"broker": {**ALPACA, "flattening": True}})

    assert down.tone is Tone.WARN and "reconnecting (stream down)" in down.text
    assert flattening.tone is Tone.WARN and "flattening" in flattening.text


def test_broker_line_stale_marks_while_held_warn_with_their_age_and_the_hub() -> None:
    status = {
        **ALPACA,
        "kind": "projectx",
        "market_hub": {"connected": False, "reason": "no message (not even a ping) for 30 s"},
        "marks": {"ES": {"price": 5000.25, "age": 42.4}},
        "stale_marks": ["ES", "NQ"],
    }

    line = broker_line({"broker": status})

    assert line.text.endswith("· connected · stale marks: ES, NQ") and line.tone is Tone.WARN
    assert line.warning == (
        "Open P&L of ES (42 s old), NQ (no quote yet) is measured on a stale mark; the market hub is "
        "down: no message (not even a ping) for 30 s. Open-loss limits act on the last mark until "
        "quotes come again."
    )
    assert broker_line({"broker": {**status, "stale_marks": []}}).tone is Tone.GOOD


def test_every_page_names_the_guarded_account(desk_state_dir: DeskState) -> None:
    with StateManager(StateDir(desk_state_dir.state_dir).state_file) as manager:
        snapshot = manager.get(SNAPSHOT_KEY)
        manager.set(SNAPSHOT_KEY, dataclasses.replace(snapshot, extra={**snapshot.extra, "broker": ALPACA}))
    at = AppTest.from_file(str(APP), default_timeout=30).run()

    for page in ("overview", "risk", "controls"):
        at.switch_page(f"views/{page}.py").run()
        assert not at.exception
        assert any("guarding alpaca account PA3X7Q (paper)" in m.value for m in at.markdown), page
