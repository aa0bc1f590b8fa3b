"""How long one snapshot publish stalls the desk's event loop, with a 200,000-point history.

A probe coroutine wakes every millisecond and records how late it woke (the loop's lag).
In the same run we measure:
- baseline: the lag with nothing else happening;
- inline:   ``StateManager.set`` + ``save`` called on the loop (what not to do);
- desk:     ``Desk.publish()`` (snapshot built on the loop, pickled and written on a thread).
Each publish's stall is the worst lag seen while it ran; we print p50/p99 of those.

    .venv/bin/python bench/bench_desk.py [--quick] [--points 200000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from trading.clock import TestClock  # noqa: E402
from trading.desk import Desk  # noqa: E402
from trading.desk._series import SeriesBuffer  # noqa: E402
from trading.snapshot import SNAPSHOT_KEY  # noqa: E402


class LagProbe:
    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.001)
            self.worst = max(self.worst, time.perf_counter() - before - 0.001)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    def take(self) -> float:
        worst, self.worst = self.worst, 0.0
        return worst


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _measure(desk: Desk, rounds: int) -> dict[str, list[float]]:
    probe = LagProbe()
    probe.start()
    await asyncio.sleep(0.05)
    out: dict[str, list[float]] = {"baseline": [], "inline": [], "desk": []}
    for _ in range(rounds):
        probe.take()
        await asyncio.sleep(0.03)
        out["baseline"].append(probe.take())

        snap = desk.snapshot()
        probe.take()
        desk.parts.publisher.state.set(SNAPSHOT_KEY, snap)  # on the loop: the stall we avoid
        desk.parts.publisher.state.save()
        await asyncio.sleep(0.002)
        out["inline"].append(probe.take())

        probe.take()
        await desk.publish()
        await asyncio.sleep(0.002)
        out["desk"].append(probe.take())
    await probe.stop()
    return out


async def run(points: int, rounds: int) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory() as tmp:
        clock = TestClock(datetime(2026, 11, 24, 15, tzinfo=UTC))
        desk = Desk.from_files(ROOT / "config" / "desk.yaml", state_dir=tmp, clock=clock)
        await desk.run_simulated(60)
        desk.snapshots.equity = SeriesBuffer(keep=points)
        start = clock.now().timestamp()
        for i in range(points):
            desk.snapshots.equity.append(start + i, 100_000.0 + (i % 977))
        try:
            return await _measure(desk, rounds)
        finally:
            await desk.shutdown()


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    parser.add_argument("--points", type=int, default=200_000, help="equity-curve points in the snapshot")
    args = parser.parse_args(argv)
    rounds = 15 if args.quick else 60
    result = asyncio.run(run(args.points, rounds))
    ms = {k: [v * 1000 for v in vals] for k, vals in result.items()}
    print(f"publish stall with a {args.points:,}-point equity curve, {rounds} publishes (ms of loop lag)")
    for name in ("baseline", "inline", "desk"):
        print(
            f"  {name:9s} p50 {statistics.median(ms[name]):7.2f}  p99 {_pct(ms[name], 0.99):7.2f}  max {max(ms[name]):7.2f}"
        )
    ratio = _pct(ms["desk"], 0.99) / max(_pct(ms["inline"], 0.99), 1e-9)
    print(f"  desk p99 / inline p99 = {ratio:.2f}   (goal: desk p99 <= 10 ms)")
    return {"desk_p99_ms": _pct(ms["desk"], 0.99), "inline_p99_ms": _pct(ms["inline"], 0.99), "ratio": ratio}


if __name__ == "__main__":
    main()
