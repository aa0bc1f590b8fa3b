"""Who may press the buttons, in a real browser: the launcher with a live desk, a users file
(alice operator, bob viewer) and TLS (a self-signed certificate), as an operator would expose it.

A wrong password is refused; a viewer sees no enabled control; an operator's flatten is
recorded with their name, role, address and reason, in the command row and the audit; after
the run no secret (a password, a hash, the cookie key, a login cookie) is in any file of the
state directory: logs, state file, database, run files.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from scripts.run_live_dashboard import DashboardRunner
from tests.scripts.test_runner_access import self_signed
from tests.unit.dashboard.conftest import PASSWORDS, write_users
from trading.memory import StateManager
from trading.state_dir import StateDir
from trading.storage import AuditRepository, CommandRepository, Database
from trading.users import load_users

from .conftest import Browser, assert_clean, free_port, needs_chromium, settle, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.browser, needs_chromium]

WRONG_PASSWORD = "Guess-number-1"


@dataclass
class Secured:
    runner: DashboardRunner
    users_file: Path
    typed: list[str] = field(default_factory=list)  # every password typed into the login form
    cookies: list[str] = field(default_factory=list)  # every login cookie the browser got


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    root = tmp_path_factory.mktemp("secured")
    users = write_users(root / "users.yaml")
    cert, key = self_signed(root)
    runner = DashboardRunner(
        port=free_port(),
        refresh_interval=30,  # no page refresh racing the clicks; the command status has its own
        state_dir=root / "data",
        executor=True,
        users_file=users,
        ssl_cert=cert,
        ssl_key=key,
        unhealthy_after=120.0,
        startup_timeout=120.0,
    )
    assert runner.start(), runner.get_status().problem
    try:
        yield Secured(runner, users)
    finally:
        runner.stop()


async def _log_in(browser: Browser, secured: Secured, username: str, password: str, path: str = "") -> Any:
    page = await browser.page(ignore_https_errors=True)
    await page.goto(f"{secured.runner.url}/{path}", timeout=90_000)
    await page.get_by_role("textbox", name="User name").fill(username, timeout=90_000)
    await page.get_by_role("textbox", name="Password").fill(password)
    secured.typed.append(password)
    await page.get_by_role("button", name="Log in").click()
    return page


def _display_only(name: str) -> bool:
    """A button that only shows something: a help tooltip, a table's full-screen view."""
    return name.startswith("Help") or name == "Fullscreen"


async def _remember_cookie(page: Any, secured: Secured) -> None:
    """The login cookie, once the browser has it (a component sets it in the run after the login)."""
    name = load_users(secured.users_file).cookie.name

    async def login_cookies() -> list[str]:
        return [c["value"] for c in await page.context.cookies() if c["name"] == name]

    secured.cookies += await wait_until(login_cookies, bool, timeout=60, what="the login cookie")


async def test_auth_served_over_https_with_a_login_first(secured: Secured, browser: Browser) -> None:
    page = await browser.page(ignore_https_errors=True)
    await page.goto(secured.runner.url, timeout=90_000)
    await page.get_by_role("button", name="Log in").wait_for(timeout=90_000)

    assert secured.runner.url.startswith("https://127.0.0.1:")
    assert await page.get_by_text("Trading state:").count() == 0  # nothing of the desk before a login
    assert await page.locator("[data-testid=stSidebarNav]").count() == 0
    await assert_clean(page)


async def test_auth_wrong_password_refused(secured: Secured, browser: Browser) -> None:
    page = await _log_in(browser, secured, "alice", WRONG_PASSWORD)

    await page.get_by_text("Wrong user name or password.").wait_for(timeout=60_000)
    await settle(page)

    assert await page.get_by_text("Trading state:").count() == 0
    assert await page.get_by_role("button", name="Log in").count() == 1
    await assert_clean(page)


async def test_auth_viewer_sees_no_enabled_control(secured: Secured, browser: Browser) -> None:
    page = await _log_in(browser, secured, "bob", PASSWORDS["bob"], "controls")
    await page.get_by_text("read-only: Bob is a viewer; only an operator sends commands").wait_for(
        timeout=90_000
    )
    await page.get_by_role("button", name="Flatten all").wait_for(timeout=30_000)
    await page.get_by_role("button", name="Unlock", exact=True).wait_for(timeout=30_000)  # the last control
    await settle(page)
    await _remember_cookie(page, secured)

    main = page.locator("[data-testid=stMain]")
    controls = main.locator("button, input, textarea, [role=combobox]")
    states = [
        (await c.get_attribute("aria-label") or (await c.inner_text()).strip(), await c.is_enabled())
        for c in await controls.all()
    ]

    assert {"Flatten all", "Pause", "Resume", "Unlock", "Reload risk config", "Close position"} <= {
        name for name, _ in states
    }
    assert [name for name, enabled in states if enabled and not _display_only(name)] == []
    assert await page.locator("[data-testid=stSidebar]").get_by_text("viewer Bob").count() == 1
    assert await page.locator("[data-testid=stMainMenu]").count() == 0  # no developer menu
    await assert_clean(page)


async def test_auth_operator_flattens_audit_shows_name_and_reason(secured: Secured, browser: Browser) -> None:
    page = await _log_in(browser, secured, "alice", PASSWORDS["alice"], "controls")
    await page.get_by_text("commands are recorded as requested by alice (login)").wait_for(timeout=90_000)
    await _remember_cookie(page, secured)
    await settle(page)
    await page.get_by_role("textbox", name="flatten reason (optional)").fill("risk off before the news")

    await page.get_by_role("button", name="Flatten all").click()
    await page.get_by_text("Reason: risk off before the news.").wait_for(timeout=30_000)
    await settle(page)
    await page.get_by_role("button", name="Confirm:").click()
    await page.get_by_text("flatten_all (reason: risk off before the news) by alice: done: ").wait_for(
        timeout=60_000
    )

    with Database(StateDir(secured.runner.state_dir).database) as db:
        command = next(c for c in CommandRepository(db).recent(limit=20) if c["kind"] == "flatten_all")
        audit = [a for a in AuditRepository(db).recent(limit=50) if a["action"] == "flatten"]
    assert (command["requested_by"], command["requester_role"], command["requester_address"]) == (
        "alice",
        "operator",
        "localhost",  # a browser on this machine (Streamlit gives no address for 127.0.0.1)
    )
    assert [(a["rule"], a["reason"]) for a in audit] == [("operator:alice", "risk off before the news")]
    await assert_clean(page)


def _searchable(path: Path) -> bytes:
    """A file's bytes, and for the state file the snapshots it holds, unpacked (it is compressed);
    nothing for a temporary file that went while the directory was read."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return b""
    if path.name == "state.pkl":
        with StateManager(path) as manager:
            data += pickle.dumps(manager.items())
    return data


def test_auth_no_secret_in_any_file_of_the_state_directory(secured: Secured) -> None:
    users = load_users(secured.users_file)
    secrets = {
        "a password typed": secured.typed,
        "a password hash": [entry.password for entry in users.users.values()],
        "the cookie key": [users.cookie.key],
        "a login cookie": secured.cookies,
    }
    assert secured.typed and secured.cookies  # the tests above ran and logged in
    files = [p for p in secured.runner.state_dir.rglob("*") if p.is_file()]
    assert {"desk.log", "streamlit.log", "desk.db", "state.pkl"} <= {p.name for p in files}

    found = [
        (what, str(path.relative_to(secured.runner.state_dir)))
        for path in files
        for what, values in secrets.items()
        for value in values
        if value.encode() in _searchable(path)
    ]

    assert found == []
