"""app.py: the st.navigation entry point, auto-refresh and every page through it."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from .conftest import APP, DeskState

PAGE_FILES = ["overview", "risk", "executor", "jobs", "activity", "controls"]


def _autorefresh(at: AppTest) -> dict:
    (component,) = [
        c
        for c in at.get("component_instance")
        if c.proto.component_name == "streamlit_autorefresh.st_autorefresh"
    ]
    return json.loads(component.proto.json_args)


def test_app_refresh_interval_from_launcher_env(desk_state_dir: DeskState) -> None:
    at = AppTest.from_file(str(APP), default_timeout=30).run()

    assert not at.exception
    assert _autorefresh(at)["interval"] == 2000
    assert at.slider(key="refresh_seconds").value == 2


def test_app_sidebar_slider_changes_refresh(desk_state_dir: DeskState) -> None:
    # Set before the first run: under AppTest (1.67), a rerun of an st.navigation app with file pages
    # drops what the entry script drew before st.navigation (the sidebar), so assert on a first run.
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.session_state["refresh_seconds"] = 15

    at.run()

    assert _autorefresh(at)["interval"] == 15000


@pytest.mark.parametrize("page", PAGE_FILES)
def test_app_every_page_through_navigation_runs_clean(desk_state_dir: DeskState, page: str) -> None:
    at = AppTest.from_file(str(APP), default_timeout=30).run()

    at.switch_page(f"views/{page}.py").run()

    assert not at.exception
    assert at.header[0].value == {"activity": "Activity log"}.get(page, page.capitalize())


@pytest.mark.parametrize("page", PAGE_FILES)
def test_app_every_page_missing_state_no_exception(tmp_path, monkeypatch, page: str) -> None:
    monkeypatch.setenv("DESK_STATE_DIR", str(tmp_path))
    at = AppTest.from_file(str(APP), default_timeout=30).run()

    at.switch_page(f"views/{page}.py").run()

    assert not at.exception
    assert at.warning[0].value.startswith("desk not running")


def test_app_bad_env_says_misconfigured(monkeypatch) -> None:
    monkeypatch.setenv("DASHBOARD_REFRESH_SECONDS", "soon")

    at = AppTest.from_file(str(APP), default_timeout=30).run()

    assert not at.exception
    assert at.error[0].value.startswith(
        "Dashboard misconfigured: environment variable DASHBOARD_REFRESH_SECONDS='soon'"
    )


def test_app_no_folder_named_pages_beside_the_entry_point() -> None:
    # Streamlit serves every file of a pages/ folder beside the main script as a page of its own:
    # a bookmark of /risk would land outside the app (no menu, no refresh). The views live elsewhere.
    assert not (APP.parent / "pages").exists()
    assert sorted(p.stem for p in (APP.parent / "views").glob("*.py") if p.stem != "__init__") == sorted(
        PAGE_FILES
    )


def test_app_sidebar_names_the_operator_and_the_state_directory_not_its_path(
    desk_state_dir: DeskState, monkeypatch
) -> None:
    monkeypatch.setenv("DASHBOARD_OPERATOR", "alice")

    at = AppTest.from_file(str(APP), default_timeout=30).run()

    captions = [c.value for c in at.sidebar.caption]
    assert captions[0] == "operator **alice**"
    assert captions[1].startswith("state: state · refresh #")
    assert str(desk_state_dir.state_dir) not in " ".join(captions)
