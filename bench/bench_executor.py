"""Benchmark: StrategyExecutor throughput against a raw asyncio baseline, and priority latency.

Run: ``.venv/bin/python bench/bench_executor.py`` (``--quick`` for a short run).

1. Throughput: N trivial async tasks through one lane of 10 workers (status tracking and
   metrics on), against a raw baseline measured in the same run: an
   ``asyncio.PriorityQueue`` and 10 worker coroutines each awaiting
   ``asyncio.wait_for(job(), 5)``, nothing else. Goal: ratio >= 0.75. Also once with
   an ``InMemoryJobStore`` on the lane (job records: PENDING, RUNNING, final).
2. High-priority start latency with 10,000 low-priority tasks queued: from the moment
   the only worker is freed to the moment the high-priority task starts; and the same
   with nothing queued, as a same-run ratio (goal: p99 <= 0.5 ms, ratio near 1: the
   backlog costs nothing).
3. Risk-lane start latency (submit to start) while the ``strategies`` lane is saturated
   (10 running, 100 queued), against the same with the ``strategies`` lane idle, as a
   same-run ratio (goal: p99 <= 5 ms, ratio near 1: a strategy flood never delays a risk job).

The unit tests check only the structure of 2 and 3 (order, which lane ran, counts); the
figures live here so a busy machine never fails a test.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trading.signals import ExecutorConfig, InMemoryJobStore, JobStore, LaneConfig, StrategyExecutor
from trading.storage import BackgroundJobStore, Database, JobRepository

WORKERS = 10


async def trivial(i: int) -> int:
    return i


async def raw_baseline(n: int) -> float:
    """Tasks per second through PriorityQueue + 10 workers awaiting wait_for(job(), 5)."""
    queue: asyncio.PriorityQueue[tuple[int, int]] = asyncio.PriorityQueue()
    done = 0
    finished = asyncio.Event()

    async def worker() -> None:
        nonlocal done
        while True:
            _priority, i = await queue.get()
            await asyncio.wait_for(trivial(i), 5)
            done += 1
            if done == n:
                finished.set()

    workers = [asyncio.create_task(worker()) for _ in range(WORKERS)]
    start = time.perf_counter()
    for i in range(n):
        queue.put_nowait((1, i))
    await finished.wait()
    elapsed = time.perf_counter() - start
    for w in workers:
        w.cancel()
    await asyncio.gather(*workers, return_exceptions=True)
    return n / elapsed


async def executor_run(n: int, store: JobStore | None = None) -> tuple[float, int]:
    """Tasks per second through one StrategyExecutor lane of 10 workers; and the COMPLETED count."""
    config = ExecutorConfig(
        lanes=(LaneConfig(name="bench", workers=WORKERS, max_queue=n),),
        default_lane="bench",
        default_timeout=5.0,
        resize_interval=None,
    )
    stores = {"bench": store} if store is not None else None
    async with StrategyExecutor(config=config, job_stores=stores) as executor:
        start = time.perf_counter()
        for i in range(n):
            await executor.submit_task("trivial", trivial, i, priority=1)
        await executor.join()
        elapsed = time.perf_counter() - start
        completed = executor.statistics().lane("bench").completed
    return n / elapsed, completed


async def priority_latency(samples: int, backlog: int) -> list[float]:
    """Milliseconds from freeing the only worker to the start of a high-priority task."""
    config = ExecutorConfig(
        lanes=(LaneConfig(name="bench", workers=1, max_queue=backlog + 10),),
        default_lane="bench",
        resize_interval=None,
    )
    latencies: list[float] = []
    async with StrategyExecutor(config=config) as executor:
        release = asyncio.Event()
        started = asyncio.Event()
        started_at = 0.0

        async def blocker(gate: asyncio.Event) -> None:
            nonlocal started_at
            started_at = time.perf_counter()
            started.set()
            await gate.wait()

        await executor.submit_task("blocker", blocker, release, priority=0)
        await started.wait()
        for i in range(backlog):
            await executor.submit_task("low", trivial, i, priority=9)
        for _ in range(samples):
            gate = release
            release = asyncio.Event()
            started.clear()
            await executor.submit_task("high", blocker, release, priority=0)
            freed = time.perf_counter()
            gate.set()
            await started.wait()
            latencies.append((started_at - freed) * 1000.0)
        low_started = executor.statistics().lane("bench").completed - samples
        release.set()
        assert low_started <= 0, "a low-priority task ran before the high-priority ones"
    return latencies


async def risk_latency(samples: int, *, saturated: bool) -> list[float]:
    """Milliseconds from submitting a risk job to its start, the strategies lane full or idle."""
    latencies: list[float] = []
    async with StrategyExecutor(max_queue_size=100, max_concurrent_tasks=WORKERS) as executor:
        hold = asyncio.Event()
        if saturated:
            for _ in range(WORKERS):  # every worker busy first, then a full queue behind them
                await executor.submit_task("slow-strategy", hold.wait, lane="strategies")
            await asyncio.sleep(0)
            for _ in range(100):
                await executor.submit_task("slow-strategy", hold.wait, lane="strategies")
            lane = executor.statistics().lane("strategies")
            assert (lane.running, lane.queued) == (WORKERS, 100), lane

        async def risk_sweep(submitted: float) -> None:
            latencies.append((time.perf_counter() - submitted) * 1000.0)

        for _ in range(samples):
            task_id = await executor.submit_task(
                "risk-sweep", risk_sweep, time.perf_counter(), lane="risk", key="acct"
            )
            assert task_id is not None
            await executor.wait_task(task_id, timeout=5)
        assert executor.statistics().lane("strategies").completed == 0
        hold.set()
    return latencies


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(q / 100 * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="a short run (20,000 tasks, 200 latency samples)"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="throughput rounds; the best of each side counts"
    )
    args = parser.parse_args()
    n = 20_000 if args.quick else 100_000
    samples = 200 if args.quick else 1_000
    rounds = 1 if args.quick else args.rounds

    print(
        f"python {sys.version.split()[0]}, {n:,} trivial tasks, {WORKERS} workers, best of {rounds} round(s)"
    )
    raw: list[float] = []
    ours: list[float] = []
    for _ in range(rounds):  # interleaved so both sides see the same machine noise
        gc.collect()
        raw.append(asyncio.run(raw_baseline(n)))
        gc.collect()
        rate, completed = asyncio.run(executor_run(n))
        assert completed == n, f"only {completed} of {n} tasks completed"
        ours.append(rate)
    best_raw, best_ours = max(raw), max(ours)
    print(
        f"raw baseline (PriorityQueue + wait_for): {best_raw:>10,.0f} tasks/s  (rounds: "
        f"{', '.join(f'{r:,.0f}' for r in raw)})"
    )
    print(
        f"StrategyExecutor, one lane:              {best_ours:>10,.0f} tasks/s  (rounds: "
        f"{', '.join(f'{r:,.0f}' for r in ours)})"
    )
    print(
        f"ratio executor / raw: {best_ours / best_raw:.2f}x (goal >= 0.75x); "
        f"median-round ratio {statistics.median(ours) / statistics.median(raw):.2f}x"
    )

    gc.collect()
    with_store, _ = asyncio.run(executor_run(n, InMemoryJobStore()))
    print(
        f"StrategyExecutor + InMemoryJobStore:     {with_store:>10,.0f} tasks/s  "
        f"(3 records per task; ratio to raw {with_store / best_raw:.2f}x)"
    )

    gc.collect()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "jobs.db")
        sqlite_store = BackgroundJobStore(JobRepository(db))
        with_sqlite, _ = asyncio.run(executor_run(n, sqlite_store))
        sqlite_store.close(timeout=120)  # the writer catches up after the run: the loop never waited
        written = JobRepository(db).count()
        db.close()
    print(
        f"StrategyExecutor + BackgroundJobStore:   {with_sqlite:>10,.0f} tasks/s  "
        f"(SQLite, written by a thread; ratio to raw {with_sqlite / best_raw:.2f}x; {written:,} rows)"
    )

    gc.collect()
    lat = asyncio.run(priority_latency(samples, 10_000))
    gc.collect()
    empty = asyncio.run(priority_latency(samples, 0))
    print(
        f"high-priority start latency behind 10,000 queued ({samples} samples): "
        f"p50 {pct(lat, 50):.3f} ms, p99 {pct(lat, 99):.3f} ms, max {max(lat):.3f} ms (goal p99 <= 0.5 ms)"
    )
    print(
        f"  behind none: p50 {pct(empty, 50):.3f} ms, p99 {pct(empty, 99):.3f} ms; "
        f"ratio 10,000 / none: p50 {pct(lat, 50) / pct(empty, 50):.2f}x, p99 {pct(lat, 99) / pct(empty, 99):.2f}x"
    )

    gc.collect()
    busy = asyncio.run(risk_latency(samples, saturated=True))
    gc.collect()
    idle = asyncio.run(risk_latency(samples, saturated=False))
    print(
        f"risk-lane start latency, strategies lane saturated ({samples} samples): "
        f"p50 {pct(busy, 50):.3f} ms, p99 {pct(busy, 99):.3f} ms (goal p99 <= 5 ms)"
    )
    print(
        f"  strategies lane idle: p50 {pct(idle, 50):.3f} ms, p99 {pct(idle, 99):.3f} ms; "
        f"ratio saturated / idle: p50 {pct(busy, 50) / pct(idle, 50):.2f}x, p99 {pct(busy, 99) / pct(idle, 99):.2f}x"
    )


if __name__ == "__main__":
    main()
