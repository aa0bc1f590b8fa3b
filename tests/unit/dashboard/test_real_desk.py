"""Every page against the state a real, short, seeded desk run left behind."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from .conftest import APP, chart_figure, load_snapshot

PAGE_FILES = ["overview", "risk", "executor", "jobs", "activity", "controls"]


@pytest.fixture
def real_env(real_desk_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DESK_STATE_DIR", str(real_desk_dir))
    return real_desk_dir


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGE_FILES)
def test_real_desk_every_page_runs_clean(real_env: Path, page: str) -> None:
    at = AppTest.from_file(str(APP), default_timeout=30).run()

    at.switch_page(f"pages/{page}.py").run()

    assert not at.exception
    assert any(m.value.startswith("**Trading state:**") for m in at.markdown)


@pytest.mark.slow
def test_real_desk_overview_charts_carry_the_snapshot(real_env: Path) -> None:
    snapshot = load_snapshot(real_env)

    at = AppTest.from_file(str(APP), default_timeout=30).run()

    equity, daily = (chart_figure(c) for c in at.get("plotly_chart")[:2])
    assert len(snapshot.equity_curve) > 0
    assert np.allclose(equity["data"][0]["y"], snapshot.equity_curve.values)
    assert np.allclose(daily["data"][0]["y"], snapshot.daily_pnl.values)
    assert {m.label: m.value for m in at.metric}["Equity"] == f"{snapshot.account.equity:,.2f}"
    assert len(at.dataframe[0].value) == len(snapshot.positions)


@pytest.mark.slow
def test_real_desk_jobs_and_activity_have_rows(real_env: Path) -> None:
    at = AppTest.from_file(str(APP), default_timeout=30).run()

    at.switch_page("pages/activity.py").run()
    activity = at.dataframe[0].value
    at.switch_page("pages/jobs.py").run()
    at.selectbox(key="jobs_lane").select("all").run()
    jobs = at.dataframe[0].value

    assert len(activity) > 0 and len(jobs) > 0


@pytest.mark.slow
def test_real_desk_risk_page_lists_every_rule_and_violation(real_env: Path) -> None:
    snapshot = load_snapshot(real_env)
    assert [v for v in snapshot.violations if not v.shadow], "the seeded run should have a rule acting"

    at = AppTest.from_file(str(APP), default_timeout=30).run()
    at.switch_page("pages/risk.py").run()

    assert not at.exception
    rules = at.dataframe[0].value
    assert list(rules["rule"]) == [r.rule for r in snapshot.rules]
    usage = chart_figure(at.get("plotly_chart")[0])
    assert len(usage["data"][0]["x"]) == len([r for r in snapshot.rules if r.enabled])
    logged = at.dataframe[-1].value
    assert set(logged["rule"]) >= {v.rule for v in snapshot.violations if not v.shadow}


@pytest.mark.slow
def test_real_desk_executor_page_shows_both_lanes_and_strategies(real_env: Path) -> None:
    snapshot = load_snapshot(real_env)

    at = AppTest.from_file(str(APP), default_timeout=30).run()
    at.switch_page("pages/executor.py").run()

    assert not at.exception
    frames = [frame.value for frame in at.dataframe]
    lanes = next(f for f in frames if "lane" in f.columns)
    strategies = next(f for f in frames if "name" in f.columns)
    assert set(lanes["lane"]) == {"strategies", "risk"}
    assert list(strategies["name"]) == [s.name for s in snapshot.strategies]
    assert sum(strategies["trades"]) == sum(s.trades for s in snapshot.strategies) > 0
