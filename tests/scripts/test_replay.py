"""scripts/replay.py as a user runs it: a real subprocess on a generated CSV."""

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

DESK = """
account: {name: replay, starting_balance: 100000}
instruments:
  - {symbol: ES, tick_size: 0.25, multiplier: 50, commission: 2.0}
feed:
  kind: simulated
  simulated:
    ticks_per_second: 1
    symbols:
      - {symbol: ES, start_price: 5000.0, volatility: 0.0001, tick_size: 0.25}
loop: {bar_seconds: 60}
strategies:
  - {name: ma_es, kind: ma_crossover, symbols: [ES], quantity: 2, fast: 3, slow: 8}
"""
LOOSE = "rules:\n  daily_realized_loss: {limit: 100000, action: flatten_and_lock}\n"
TIGHT = (
    "rules:\n"
    "  daily_realized_loss: {limit: 100000, action: flatten_and_lock}\n"
    "  risk_per_trade: {max_loss: 1}\n"
)


def _bars(path: Path, n: int) -> Path:
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


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "desk.yaml").write_text(DESK)
    (tmp_path / "loose.yaml").write_text(LOOSE)
    (tmp_path / "tight.yaml").write_text(TIGHT)
    return {
        "desk": tmp_path / "desk.yaml",
        "loose": tmp_path / "loose.yaml",
        "tight": tmp_path / "tight.yaml",
        "csv": _bars(tmp_path / "es.csv", 300),
    }


def test_replay_compare_prints_side_by_side_and_writes_the_plot(files, tmp_path):
    out = tmp_path / "out.html"
    flags = ["--prices", files["csv"], "--risk", files["loose"], "--compare", files["tight"]]
    done = _run(*flags, "--config", files["desk"], "--plot", out, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert text.startswith(
        "replay of es.csv: 300 prices, 2026-03-02 00:00 -> 2026-03-14 11:00 UTC, 2 rule set(s)"
    )
    header = next(line for line in text.splitlines() if line.startswith("rule "))
    assert "A: loose.yaml" in header and "B: tight.yaml" in header
    [row] = [line for line in text.splitlines() if line.startswith("risk_per_trade")]
    assert "denied" in row.split("B: ")[-1] and row.index("denied") > header.index("B: tight.yaml") - 1
    fills = next(line for line in text.splitlines() if line.startswith("fills"))
    loose_fills, tight_fills = fills.split()[1:3]
    assert int(loose_fills) > 0 and tight_fills == "0"  # every entry denied by the 1.00 cap
    assert "in time order:" in text
    page = out.read_text()
    assert "plotly" in page and "A: loose.yaml equity" in page and "B: tight.yaml denied" in page


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--risk", "loose.yaml"), "the following arguments are required: --prices"),
        (
            ("--prices", "missing.csv", "--risk", "loose.yaml"),
            "argument --prices: 'missing.csv' is not a file",
        ),
        (
            ("--prices", "es.csv", "--risk", "loose.yaml", "--plot", "out.png"),
            "argument --plot: 'out.png' must end in .html",
        ),
        (
            ("--prices", "es.csv", "--risk", "loose.yaml", "--events", "-1"),
            "argument --events: must be >= 0, got '-1'",
        ),
    ],
    ids=["no prices", "missing file", "plot not html", "negative events"],
)
def test_replay_bad_flags_exit_2_with_one_line(files, tmp_path, args, message):
    done = _run(*args, "--config", files["desk"], cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == f"replay.py: error: {message}\n"


def test_replay_bad_csv_line_exits_2_naming_the_line(files, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,symbol,price\n2026-03-02T00:00:00+00:00,ES,abc\n")
    done = _run("--prices", bad, "--risk", files["loose"], "--config", files["desk"], cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert done.stderr.startswith("replay.py: error: ") and "line 2" in done.stderr


def test_replay_bad_risk_config_exits_2(files, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  risk_per_trade: {max_loss: -5}\n")
    done = _run("--prices", files["csv"], "--risk", bad, "--config", files["desk"], cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "risk_per_trade" in done.stderr and "max_loss" in done.stderr
