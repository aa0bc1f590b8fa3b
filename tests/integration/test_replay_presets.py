"""scripts/replay.py with the shipped presets as rule sets: a real subprocess on a generated CSV."""

from __future__ import annotations

import math
import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "replay.py"
PRESETS = REPO / "config" / "presets"

DESK = """
account: {{name: replay, starting_balance: {balance}}}
instruments:
  - {{symbol: ES, tick_size: 0.25, multiplier: 50, commission: 2.0}}
feed:
  kind: simulated
  simulated:
    ticks_per_second: 1
    symbols:
      - {{symbol: ES, start_price: 5000.0, volatility: 0.0001, tick_size: 0.25}}
loop: {{bar_seconds: 60}}
strategies:
  - {{name: ma_es, kind: ma_crossover, symbols: [ES], quantity: 2, fast: 3, slow: 8}}
"""


def _bars(path: Path, n: int) -> Path:
    """Hourly ES bars from Monday 2026-03-02, a seeded random walk on whole ticks."""
    rng = random.Random(11)
    ts, price = datetime(2026, 3, 2, tzinfo=UTC), 5000.0
    lines = ["timestamp,symbol,open,high,low,close,volume"]
    for _ in range(n):
        close = round(price * math.exp(rng.gauss(0, 0.003)) * 4) / 4
        lines.append(f"{ts.isoformat()},ES,{price},{max(price, close)},{min(price, close)},{close},100")
        price, ts = close, ts + timedelta(hours=1)
    path.write_text("\n".join(lines) + "\n")
    return path


def _run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=120
    )


@pytest.mark.parametrize(
    ("preset", "balance"),
    [("funded_50k_eod", 50_000), ("funded_50k_intraday", 50_000), ("funded_150k_scaling", 150_000)],
)
def test_replay_with_a_preset_as_the_rule_set_runs_and_reports_its_rules(tmp_path, preset, balance):
    desk = tmp_path / "desk.yaml"
    desk.write_text(DESK.format(balance=balance))
    csv = _bars(tmp_path / "es.csv", 300)

    done = _run("--prices", csv, "--risk", PRESETS / f"{preset}.yaml", "--config", desk, cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(
        "replay of es.csv: 300 prices, 2026-03-02 00:00 -> 2026-03-14 11:00 UTC, 1 rule set"
    )
    assert f"A: {preset}.yaml" in next(line for line in lines if line.startswith("rule "))
    assert any(line.startswith("final equity") for line in lines)
    assert any(line.startswith("trailing_drawdown ") for line in lines)  # the walk trips every preset's floor


def test_replay_compares_a_preset_with_a_file_that_tightens_it(tmp_path):
    desk = tmp_path / "desk.yaml"
    desk.write_text(DESK.format(balance=50_000))
    mine = tmp_path / "mine.yaml"
    mine.write_text("preset: funded_50k_eod\nrules:\n  daily_loss: {limit: 300}\n")
    csv = _bars(tmp_path / "es.csv", 300)

    done = _run(
        "--prices",
        csv,
        "--risk",
        PRESETS / "funded_50k_eod.yaml",
        "--compare",
        mine,
        "--config",
        desk,
        cwd=tmp_path,
    )

    assert done.returncode == 0, done.stderr
    header = next(line for line in done.stdout.splitlines() if line.startswith("rule "))
    assert "A: funded_50k_eod.yaml" in header and "B: mine.yaml" in header
    assert "daily net loss" in done.stdout and "<= -300.00" in done.stdout
    # every row's second column starts where the header's does, after a gap: cells never run together
    table = next(block for block in done.stdout.split("\n\n") if block.startswith("rule ")).splitlines()
    column_b = header.index("B: mine.yaml")
    assert len(table) > 4
    for row in table[2:]:
        if len(row) > column_b and row[column_b] != " " and not row.startswith("-"):
            assert row[column_b - 3 : column_b] == "   ", row


def test_replay_risk_file_naming_an_unknown_preset_exits_2_naming_it(tmp_path):
    desk = tmp_path / "desk.yaml"
    desk.write_text(DESK.format(balance=50_000))
    bad = tmp_path / "bad.yaml"
    bad.write_text("preset: funded_51k\n")
    csv = _bars(tmp_path / "es.csv", 10)

    done = _run("--prices", csv, "--risk", bad, "--config", desk, cwd=tmp_path)

    assert done.returncode == 2
    assert "bad.yaml: field 'preset': bad value 'funded_51k': no such preset: allowed one of" in done.stderr
