"""views/activity.py under AppTest: search, level, paging."""

from __future__ import annotations

from datetime import timedelta

from trading.clock import TestClock
from trading.state_dir import StateDir
from trading.storage import ActivityLog, Database

from ..conftest import DeskState, run_page


def test_activity_first_page_newest_first(desk_state_dir: DeskState) -> None:
    at = run_page("activity")

    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) == 50 and table["message"].iloc[0] == desk_state_dir.activity_messages[-1]


def test_activity_search_filters_rows(desk_state_dir: DeskState) -> None:
    at = run_page("activity")

    at.text_input(key="activity_search").input("ESZ6 @ 610").run()

    assert list(at.dataframe[0].value["message"]) == [
        f"fill {i} ESZ6 @ {6000 + i}" for i in (109, 107, 105, 103, 101)
    ]


def test_activity_level_filter_and_last_page(desk_state_dir: DeskState) -> None:
    at = run_page("activity")

    at.number_input(key="activity_page").set_value(3).run()
    assert len(at.dataframe[0].value) == 30

    at.selectbox(key="activity_level").select("WARNING").run()
    assert set(at.dataframe[0].value["level"]) == {"WARNING"} and len(at.dataframe[0].value) == 10


def test_activity_source_filter_keeps_only_those_sources(desk_state_dir: DeskState) -> None:
    at = run_page("activity")

    at.multiselect(key="activity_sources").select("broker").run()

    table = at.dataframe[0].value
    assert (
        set(table["source"]) == {"broker"}
        and at.number_input(key="activity_page").label == "page (of 2, 65 rows)"
    )


def test_activity_time_range_counts_back_from_the_desk_clock(desk_state_dir: DeskState) -> None:
    # Arrange: three lines 50 minutes apart on the desk's clock, the last at the snapshot's time
    snap = desk_state_dir.snapshot
    with Database(StateDir(desk_state_dir.state_dir).database) as db:
        clock = TestClock(snap.taken_at - timedelta(minutes=150))
        log = ActivityLog(db, clock=clock).start()
        for n in range(3):
            clock.advance(3000)
            log.log_activity("CRITICAL", "risk", f"halt {n}")
        log.close()
    at = run_page("activity")
    at.selectbox(key="activity_level").select("CRITICAL").run()

    at.selectbox(key="activity_range").select("last hour").run()
    last_hour = list(at.dataframe[0].value["message"])
    at.selectbox(key="activity_range").select("last 4 hours").run()

    assert last_hour == ["halt 2", "halt 1"]
    assert list(at.dataframe[0].value["message"]) == ["halt 2", "halt 1", "halt 0"]


def test_activity_times_on_the_desk_clock_with_utc_beside(desk_state_dir: DeskState) -> None:
    at = run_page("activity")

    row = at.dataframe[0].value.iloc[0]
    assert row["time"].endswith((" CST", " CDT")) and row["UTC"].endswith(" UTC")
    assert row["details"] == "n: 129"
