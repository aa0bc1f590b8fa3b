"""Desks built from the shipped config files, on a TestClock, in a temporary state directory."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from trading.clock import TestClock
from trading.desk import Desk, DeskOperators

ROOT = Path(__file__).resolve().parents[3]
START = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # a Tuesday, 09:00 in Chicago
# The requesters these tests write into command rows: this desk's operators (the refusal of any
# other name is tested in test_operators.py)
TEST_OPERATORS = ("alice", "bob", "carol", "dashboard", "around the dashboard", "script", "mallory")


def write_configs(
    folder: Path,
    *,
    desk: dict[str, Any] | None = None,
    risk: dict[str, Any] | None = None,
    rules: dict[str, dict[str, Any]] | None = None,
) -> Path:
    """Copy config/desk.yaml and config/risk.yaml into ``folder`` with top-level overrides
    (``desk``, ``risk``) and per-rule field overrides (``rules``)."""
    folder.mkdir(parents=True, exist_ok=True)
    desk_cfg = yaml.safe_load((ROOT / "config" / "desk.yaml").read_text())
    risk_cfg = yaml.safe_load((ROOT / "config" / "risk.yaml").read_text())
    for key, value in (desk or {}).items():
        desk_cfg[key] = value
    for key, value in (risk or {}).items():
        risk_cfg[key] = value
    for rule, fields in (rules or {}).items():
        risk_cfg["rules"].setdefault(rule, {}).update(fields)
    (folder / "desk.yaml").write_text(yaml.safe_dump(desk_cfg))
    (folder / "risk.yaml").write_text(yaml.safe_dump(risk_cfg))
    return folder / "desk.yaml"


@pytest.fixture
def make_desk(tmp_path: Path) -> Callable[..., Desk]:
    made: list[Desk] = []

    def _make(
        *,
        clock: TestClock | None = None,
        state: str = "state",
        operators: DeskOperators | None = None,
        **overrides: Any,
    ) -> Desk:
        config = write_configs(tmp_path / "config", **overrides)
        desk = Desk.from_files(
            config,
            state_dir=tmp_path / state,
            clock=clock or TestClock(START),
            operators=operators or DeskOperators(local=TEST_OPERATORS),
        )
        made.append(desk)
        return desk

    yield _make
    for desk in made:
        if not desk._stopped:
            desk.parts.close()
