"""Every page against the state a real, short, seeded desk run left behind."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.rule_meaning import in_usage_chart

from .conftest import APP, chart_figure, frame, glance, load_snapshot

PAGE_FILES = ["overview", "risk", "executor", "jobs", "activity", "controls"]


@pytest.fixture
def real_env(real_desk_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DESK_STATE_DIR", str(real_desk_dir))
    return real_desk_dir


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGE_FILES)
def test_real_desk_every_page_runs_clean(real_env: Path, page: str) -> None:
    at = AppTest.from_file(str(APP), default_timeout=30).run()

    at.switch_page(f"views/{page}.py").run()

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
    assert glance(at)["equity"] == f"${snapshot.account.equity:,.2f}"
    assert len(frame(at, "symbol", "avg_price")) == len(snapshot.positions)


@pytest.mark.slow
def test_real_desk_overview_headroom_strip_matches_the_snapshot(real_env: Path) -> None:
    snapshot = load_snapshot(real_env)
    room = snapshot.headroom
    assert room is not None and room.daily_loss_left is not None and room.contracts_limit is not None

    at = AppTest.from_file(str(APP), default_timeout=30).run()

    tiles = glance(at)
    assert tiles["daily_loss_left"] == f"${room.daily_loss_left:,.2f}"
    assert tiles["contracts"] == f"{room.contracts_used:g} / {room.contracts_limit:g}"
    assert tiles["allowed"] == " · ".join(
        f"{s.symbol} {s.contracts_allowed:g}" for s in room.symbols if s.contracts_allowed is not None
    )


@pytest.mark.slow
def test_real_desk_jobs_and_activity_have_rows(real_env: Path) -> None:
    at = AppTest.from_file(str(APP), default_timeout=30).run()

    at.switch_page("views/activity.py").run()
    activity = at.dataframe[0].value
    at.switch_page("views/jobs.py").run()
    at.selectbox(key="jobs_lane").select("all").run()
    jobs = at.dataframe[0].value
    actions = frame(at, "action", "via")

    assert len(activity) > 0 and len(jobs) > 0
    assert len(actions) > 0 and set(actions["via"]) & {"event"}  # enforcement between sweeps is listed


@pytest.mark.slow
def test_real_desk_risk_page_lists_every_rule_and_violation(real_env: Path) -> None:
    snapshot = load_snapshot(real_env)
    assert [v for v in snapshot.violations if not v.shadow], "the seeded run should have a rule acting"

    at = AppTest.from_file(str(APP), default_timeout=30).run()
    at.switch_page("views/risk.py").run()

    assert not at.exception
    rules = frame(at, "rule", "used_pct")
    assert list(rules["rule"]) == [r.rule for r in snapshot.rules]
    usage = chart_figure(at.get("plotly_chart")[0])
    # the chart shows the limits; cooldown timers and calendars are not a share of a limit
    assert len(usage["data"][0]["x"]) == len([r for r in snapshot.rules if in_usage_chart(r)])
    logged = frame(at, "severity", "values")
    assert set(logged["rule"]) >= {v.rule for v in snapshot.violations if not v.shadow}


@pytest.mark.slow
def test_real_desk_executor_page_shows_both_lanes_and_strategies(real_env: Path) -> None:
    snapshot = load_snapshot(real_env)

    at = AppTest.from_file(str(APP), default_timeout=30).run()
    at.switch_page("views/executor.py").run()

    assert not at.exception
    frames = [frame.value for frame in at.dataframe]
    lanes = next(f for f in frames if "lane" in f.columns)
    strategies = next(f for f in frames if "name" in f.columns)
    assert set(lanes["lane"]) == {"strategies", "risk"}
    assert list(strategies["name"]) == [s.name for s in snapshot.strategies]
    assert sum(strategies["trades"]) == sum(s.trades for s in snapshot.strategies) > 0
