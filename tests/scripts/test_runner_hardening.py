"""The running Streamlit server's effective settings, read from the process the launcher started:
its command line, environment and working directory (with the config.toml there) resolved by
Streamlit's own code, as `streamlit run` resolves them; and what the server does (the XSRF cookie)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scripts._runner_streamlit import HARDENING
from scripts.run_live_dashboard import DashboardRunner
from tests.unit.dashboard.conftest import build_snapshot, write_database, write_heartbeat, write_snapshot

from .test_runner_access import _free_port

pytestmark = pytest.mark.slow

# Streamlit's own parsing of `streamlit run` flags, then of the config files in the working directory.
RESOLVE = """
import json, sys
from streamlit import config
from streamlit.web import bootstrap, cli
argv = json.loads(sys.argv[1])
params = cli.main_run.make_context("run", argv).params
bootstrap.load_config_options({k: v for k, v in params.items() if k not in ("target", "args")})
print(json.dumps({name: config.get_option(name) for name in json.loads(sys.argv[2])}))
"""
CHECKED = [*HARDENING, "client.showErrorDetails", "server.address", "server.sslCertFile"]


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashboardRunner]:
    """The launcher's Streamlit (no desk) on a state directory a desk left."""
    state = tmp_path_factory.mktemp("hardened")
    now = datetime.now(UTC)
    write_snapshot(state, build_snapshot(now))
    write_database(state, now)
    write_heartbeat(state, now.timestamp())
    runner = DashboardRunner(port=_free_port(), state_dir=state, executor=False)
    assert runner.start(), runner.get_status().problem
    try:
        yield runner
    finally:
        runner.stop()


def _effective_settings(pid: int) -> dict[str, object]:
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[:-1]
    argv = [part.decode() for part in cmdline]
    run_args = argv[argv.index("run") + 1 :]
    environ = dict(
        item.decode().split("=", 1)
        for item in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        if b"=" in item
    )
    done = subprocess.run(
        [sys.executable, "-c", RESOLVE, json.dumps(run_args), json.dumps(CHECKED)],
        cwd=os.readlink(f"/proc/{pid}/cwd"),
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_runner_running_streamlit_is_hardened(dashboard: DashboardRunner) -> None:
    pid = dashboard.get_status().pids["streamlit"]
    assert pid is not None

    settings = _effective_settings(pid)

    assert {name: settings[name] for name in HARDENING} == HARDENING
    assert settings["server.enableXsrfProtection"] is True and settings["server.enableCORS"] is True
    assert (settings["server.fileWatcherType"], settings["server.runOnSave"]) == ("none", False)
    assert settings["client.toolbarMode"] == "minimal"
    assert settings["client.showErrorDetails"] == "type"
    assert (settings["server.address"], settings["server.sslCertFile"]) == ("127.0.0.1", None)


def test_runner_running_streamlit_sets_the_xsrf_cookie(dashboard: DashboardRunner) -> None:
    with urllib.request.urlopen(f"{dashboard.url}/_stcore/health", timeout=10) as response:
        cookies = response.headers.get_all("Set-Cookie") or []

    assert any(cookie.startswith("_streamlit_xsrf=") for cookie in cookies), cookies
