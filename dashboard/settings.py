"""The dashboard's settings, read once per process from the environment the launcher sets."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from trading.errors import ConfigError

__all__ = [
    "ENV_OPERATOR",
    "ENV_REFRESH",
    "ENV_STALE_AFTER",
    "ENV_STATE_DIR",
    "ENV_USERS_FILE",
    "DashboardSettings",
]

ENV_STATE_DIR = "DESK_STATE_DIR"
ENV_REFRESH = "DASHBOARD_REFRESH_SECONDS"
ENV_STALE_AFTER = "DASHBOARD_STALE_AFTER_SECONDS"
ENV_OPERATOR = "DASHBOARD_OPERATOR"  # the launcher's --operator NAME
ENV_USERS_FILE = "DASHBOARD_USERS_FILE"  # the launcher's --users FILE: a login is required

_ENV_FIELDS = {
    ENV_STATE_DIR: "state_dir",
    ENV_REFRESH: "refresh_seconds",
    ENV_STALE_AFTER: "stale_after",
    ENV_OPERATOR: "operator",
    ENV_USERS_FILE: "users_file",
}


class DashboardSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    state_dir: Path = Path("data")
    refresh_seconds: int = Field(30, ge=1, le=3600)
    stale_after: float = Field(5.0, gt=0, le=3600)
    page_size: int = Field(50, ge=5, le=1000)
    operator: str | None = Field(None, min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")
    users_file: Path | None = None  # set: every visitor logs in (dashboard.login); None: no login

    @property
    def login_required(self) -> bool:
        return self.users_file is not None

    @field_validator("operator", mode="before")
    @classmethod
    def _strip(cls, value: object) -> object:
        return value.strip() or None if isinstance(value, str) else value

    @property
    def state_name(self) -> str:
        """The state directory as the page shows it: its name, never the machine's path."""
        return self.state_dir.name or str(self.state_dir)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> DashboardSettings:
        """Settings from the ``DESK_STATE_DIR`` and ``DASHBOARD_*`` environment variables."""
        env = os.environ if environ is None else environ
        values = {field: env[name] for name, field in _ENV_FIELDS.items() if env.get(name)}
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            field = str(err["loc"][0])
            name = next(n for n, f in _ENV_FIELDS.items() if f == field)
            raise ConfigError(
                f"environment variable {name}={env.get(name)!r}: {str(err['msg']).lower()}",
                field=name,
                value=env.get(name),
                allowed=str(err["msg"]),
            ) from None
