"""Dashboard data path: what one refresh costs.

Measures, on a state file holding a snapshot with a long equity curve:
1. DeskReader.snapshot() when the state did not change (version-token check only)
   against the raw baseline: StateManager.load() + get() on every refresh;
2. DeskReader.snapshot() right after the desk replaced the file (a real reload);
3. the equity chart as sent to the browser: downsampled figure JSON against the raw
   baseline of a figure with every point (build + to_json time, bytes);
4. a whole Overview page run (AppTest rerun) on that state.

    .venv/bin/python bench/bench_dashboard.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import plotly.graph_objects as go  # noqa: E402

from dashboard import charts  # noqa: E402
from dashboard.data import DeskReader  # noqa: E402
from tests.unit.dashboard.conftest import build_snapshot, write_heartbeat, write_snapshot  # noqa: E402
from trading.clock import LiveClock  # noqa: E402
from trading.memory import StateManager  # noqa: E402
from trading.snapshot import SNAPSHOT_KEY, Series  # noqa: E402


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def ms(samples: list[float], q: float = 0.5) -> float:
    return float(np.quantile(samples, q) * 1e3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run")
    args = parser.parse_args()
    points = 50_000 if args.quick else 200_000
    repeat = 20 if args.quick else 100

    with tempfile.TemporaryDirectory() as tmp:
        state_dir = Path(tmp)
        now = datetime.now(UTC)
        snap = build_snapshot(now, points=points)
        write_snapshot(state_dir, snap)
        write_heartbeat(state_dir, now.timestamp())
        size = (state_dir / "state.pkl").stat().st_size
        print(f"state file: {size / 1e6:.2f} MB, equity curve {points:,} points, {repeat} samples each")

        # 1. unchanged state: token check vs full load
        with DeskReader(state_dir, clock=LiveClock()) as reader, StateManager(state_dir / "state.pkl") as raw:
            reader.snapshot()
            cached = timed(reader.snapshot, repeat * 10)

            def full_load() -> None:
                raw.load()
                raw.get(SNAPSHOT_KEY)

            baseline = timed(full_load, repeat)
            status = timed(reader.status, repeat * 10)
        print(f"unchanged state   token check p50 {ms(cached):8.3f} ms  p99 {ms(cached, 0.99):8.3f} ms")
        print(
            f"                  raw load+get p50 {ms(baseline):8.3f} ms  p99 {ms(baseline, 0.99):8.3f} ms"
            f"  -> {ms(baseline) / ms(cached):,.0f}x faster"
        )
        print(f"heartbeat status  p50 {ms(status):8.3f} ms")

        # 2. changed state: a real reload per refresh
        with DeskReader(state_dir, clock=LiveClock()) as reader:
            reloads = []
            for i in range(max(5, repeat // 5)):
                write_snapshot(state_dir, build_snapshot(now, equity_shift=float(i), points=points))
                start = time.perf_counter()
                assert reader.snapshot() is not None
                reloads.append(time.perf_counter() - start)
        print(
            f"changed state     reload p50 {ms(reloads):8.3f} ms  (raw load+get {ms(baseline):.3f} ms: "
            f"ratio {ms(reloads) / ms(baseline):.2f})"
        )

        # 3. equity chart payload
        curve: Series = snap.equity_curve
        down_json: list[str] = []
        full_json: list[str] = []
        t_down = timed(lambda: down_json.append(charts.equity_chart(curve).to_json()), max(3, repeat // 10))

        def full_figure() -> None:
            x = pd.to_datetime(curve.times, unit="s", utc=True)  # the obvious way: datetimes, every point
            fig = go.Figure(go.Scatter(x=x, y=curve.values, mode="lines"))
            full_json.append(fig.to_json())

        t_full = timed(full_figure, max(3, repeat // 10))
        print(f"equity chart      downsampled {ms(t_down):8.1f} ms, {len(down_json[0]) / 1e3:8.1f} kB")
        print(
            f"                  every point {ms(t_full):8.1f} ms, {len(full_json[0]) / 1e3:8.1f} kB"
            f"  -> {len(full_json[0]) / len(down_json[0]):.0f}x fewer bytes, "
            f"{ms(t_full) / ms(t_down):.1f}x time"
        )

        # 4. a whole page run
        os.environ["DESK_STATE_DIR"] = str(state_dir)
        from streamlit.testing.v1 import AppTest

        at = AppTest.from_file(str(ROOT / "dashboard" / "views" / "overview.py"), default_timeout=60).run()
        runs = timed(at.run, max(3, repeat // 10))
        assert not at.exception
        print(
            f"overview page     rerun p50 {ms(runs):8.1f} ms  (min {min(runs) * 1e3:.1f} ms, "
            f"mean {statistics.mean(runs) * 1e3:.1f} ms)"
        )


if __name__ == "__main__":
    main()
