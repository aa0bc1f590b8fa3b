"""pages/activity.py under AppTest: search, level, paging."""

from __future__ import annotations

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
