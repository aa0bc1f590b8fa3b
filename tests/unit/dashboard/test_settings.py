"""settings.py: dashboard settings from the launcher's environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.settings import DashboardSettings
from trading.errors import ConfigError


def test_settings_from_env_reads_state_dir_and_refresh() -> None:
    settings = DashboardSettings.from_env({"DESK_STATE_DIR": "/tmp/x", "DASHBOARD_REFRESH_SECONDS": "7"})

    assert settings.state_dir == Path("/tmp/x") and settings.refresh_seconds == 7


def test_settings_from_env_defaults_when_unset() -> None:
    settings = DashboardSettings.from_env({})

    assert settings.state_dir == Path("data") and settings.refresh_seconds == 30


def test_settings_from_env_bad_refresh_names_variable() -> None:
    with pytest.raises(ConfigError, match=r"DASHBOARD_REFRESH_SECONDS='0'.*greater than or equal to 1"):
        DashboardSettings.from_env({"DASHBOARD_REFRESH_SECONDS": "0"})


def test_settings_reject_unknown_field() -> None:
    with pytest.raises(ValueError, match="extra"):
        DashboardSettings(colour="red")  # type: ignore[call-arg]
