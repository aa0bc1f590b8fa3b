"""The launcher's settings and status: frozen, typed, unknown keys refused."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from scripts._runner_checks import REQUIRED_MODULES
from scripts._runner_children import HealthResult

__all__ = ["REPO_ROOT", "RunnerConfig", "RunnerStatus"]

REPO_ROOT = Path(__file__).resolve().parent.parent


class RunnerConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    port: int = 8501
    host: str = Field("127.0.0.1", min_length=1)
    refresh_interval: int = Field(30, ge=1, le=3600)
    debug: bool = False
    config: Path | None = None  # desk config (config/desk.yaml)
    risk_config: Path | None = None
    state_dir: Path = REPO_ROOT / "data"
    executor: bool = True  # False: attach to a desk that already runs on state_dir
    users_file: Path | None = None  # set: a login is required (scripts/desk_users.py makes it)
    ssl_cert: Path | None = None  # both set: Streamlit serves https
    ssl_key: Path | None = None
    app_path: Path = REPO_ROOT / "dashboard" / "app.py"
    executor_script: Path = REPO_ROOT / "scripts" / "run_executor.py"
    python: str = sys.executable
    required_modules: dict[str, str] = Field(default_factory=lambda: dict(REQUIRED_MODULES))
    startup_timeout: float = Field(60.0, gt=0)
    poll_interval: float = Field(0.5, gt=0, le=10)
    stop_timeout: float = Field(10.0, gt=0)
    stale_after: float = Field(5.0, gt=0)
    restart_limit: int = Field(5, ge=0)
    allow_live: bool = False  # pass --allow-live to the desk (a live broker account)
    new_account: bool = False  # archive the state directory's account at start (the pre-flight, once)
    backoff_initial: float = Field(0.5, ge=0)
    backoff_max: float = Field(10.0, ge=0)
    unhealthy_after: float = Field(15.0, gt=0)


@dataclass(frozen=True, slots=True)
class RunnerStatus:
    running: bool
    pids: dict[str, int | None]
    port: int
    url: str
    restarts: dict[str, int]
    uptime: float  # seconds since start(), 0 when not running
    health: dict[str, HealthResult | None] = field(default_factory=dict)
    failed: tuple[str, ...] = ()  # children that gave up (restart limit, or bad input)
    problem: str = ""  # why the runner did not start or stopped on its own, in words
    bad_input: tuple[str, ...] = ()  # children that exited with code 2 before ever being healthy
