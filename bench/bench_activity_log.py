"""Activity log benchmark.

Measures, in one run:
1. raw baseline: batched ``executemany`` (1,000 rows a transaction) of pre-built rows into a
   WAL database with ``synchronous=NORMAL``, plain ``sqlite3``, same table;
2. ``log_activity()`` call latency (p50 / p99 / p99.9) with the writer running;
3. sustained persistence: rows/s the writer commits from a full queue, and end to end
   with a producer thread logging while the writer writes; both as a ratio of (1);
4. four threads logging at once, each through its own Database + ActivityLog on the
   same file (four writers contending for the lock): errors, retries, rows written.

Goals (issue 4): p99 <= 5 us; >= 250,000 rows/s and >= 0.45x raw; zero "database is locked".

    .venv/bin/python bench/bench_activity_log.py [--quick]
"""

from __future__ import annotations

import argparse
import logging
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trading.storage import ActivityLog, Database

DDL = (
    "CREATE TABLE activity (id INTEGER PRIMARY KEY AUTOINCREMENT, ts TEXT NOT NULL, level TEXT NOT NULL, "
    "source TEXT NOT NULL, message TEXT NOT NULL, details TEXT)"
)
INSERT = "INSERT INTO activity (ts, level, source, message, details) VALUES (?, ?, ?, ?, ?)"


class _LockedCounter(logging.Handler):
    """Counts log records that mention a locked database."""

    def __init__(self) -> None:
        super().__init__()
        self.locked = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "locked" in record.getMessage().lower():
            self.locked += 1


def raw_baseline(path: Path, rows: int, batch: int = 1000) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(DDL)
        data = [
            (
                f"2026-01-05T14:30:{i % 60:02d}.{i % 1_000_000:06d}+00:00",
                "INFO",
                "bench",
                f"order {i} filled",
                None,
            )
            for i in range(rows)
        ]
        start = time.perf_counter()
        for lo in range(0, rows, batch):
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(INSERT, data[lo : lo + batch])
            conn.execute("COMMIT")
        return rows / (time.perf_counter() - start)
    finally:
        conn.close()


def call_latency(path: Path, calls: int, with_details: bool) -> tuple[float, float, float]:
    with Database(path) as db, ActivityLog(db, max_queue=calls + 10) as log:
        timer = time.perf_counter_ns
        samples = [0] * calls
        log_activity = log.log_activity
        for i in range(calls):
            if with_details:
                t0 = timer()
                log_activity("INFO", "bench", "order filled", order_id=i)
                samples[i] = timer() - t0
            else:
                t0 = timer()
                log_activity("INFO", "bench", "order filled")
                samples[i] = timer() - t0
        log.flush(60)
    samples.sort()
    return (samples[calls // 2] / 1e3, samples[int(calls * 0.99)] / 1e3, samples[int(calls * 0.999)] / 1e3)


def persistence_from_queue(path: Path, rows: int) -> float:
    """Fill the queue first, then time the writer alone until everything is committed."""
    with Database(path) as db:
        log = ActivityLog(db, max_queue=rows + 10)
        for i in range(rows):
            log.log_activity("INFO", "bench", f"order {i} filled")
        start = time.perf_counter()
        log.start()
        assert log.flush(120), "flush timed out"
        elapsed = time.perf_counter() - start
        log.close()
        assert log.statistics().written == rows
    return rows / elapsed


def persistence_end_to_end(path: Path, rows: int) -> float:
    """A producer thread logs ``rows`` records while the writer runs; time until all committed."""
    with Database(path) as db, ActivityLog(db, max_queue=rows + 10) as log:
        start = time.perf_counter()

        def produce() -> None:
            for i in range(rows):
                log.log_activity("INFO", "bench", f"order {i} filled")

        producer = threading.Thread(target=produce)
        producer.start()
        producer.join()
        assert log.flush(120), "flush timed out"
        elapsed = time.perf_counter() - start
        assert log.statistics().written == rows
    return rows / elapsed


def four_writers(path: Path, per_thread: int) -> tuple[int, int, int, int, float]:
    """Four threads, each with its own Database and ActivityLog on one file."""
    counter = _LockedCounter()
    logging.getLogger("trading").addHandler(counter)
    dbs = [Database(path) for _ in range(4)]
    logs = [ActivityLog(db, max_queue=per_thread + 10).start() for db in dbs]
    barrier = threading.Barrier(4)
    exceptions: list[BaseException] = []

    def produce(log: ActivityLog, n: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                log.log_activity("INFO", f"thread-{n}", f"record {i}")
                if i % 2000 == 0:
                    time.sleep(0)  # let the writers interleave with the producers
        except BaseException as exc:  # reported below
            exceptions.append(exc)

    start = time.perf_counter()
    threads = [threading.Thread(target=produce, args=(log, n)) for n, log in enumerate(logs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for log in logs:
        log.close(60)
    elapsed = time.perf_counter() - start
    stats = [log.statistics() for log in logs]
    rows = dbs[0].read(lambda conn: conn.exec_driver_sql("SELECT COUNT(*) FROM activity").scalar_one())
    for db in dbs:
        db.close()
    logging.getLogger("trading").removeHandler(counter)
    errors = sum(s.errors for s in stats) + len(exceptions)
    return int(rows), errors, sum(s.retries for s in stats), counter.locked, rows / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a short run (fewer rows and calls)")
    args = parser.parse_args()
    rows = 100_000 if args.quick else 1_000_000
    calls = 100_000 if args.quick else 1_000_000
    per_thread = 25_000 if args.quick else 250_000

    with tempfile.TemporaryDirectory(prefix="bench_activity_") as tmp:
        d = Path(tmp)
        raw = statistics.median(raw_baseline(d / f"raw{i}.db", rows) for i in range(3))
        p50, p99, p999 = call_latency(d / "lat.db", calls, with_details=False)
        dp50, dp99, dp999 = call_latency(d / "lat2.db", calls, with_details=True)
        queue_rate = statistics.median(persistence_from_queue(d / f"q{i}.db", rows) for i in range(3))
        e2e_rate = statistics.median(persistence_end_to_end(d / f"e{i}.db", rows) for i in range(3))
        written, errors, retries, locked, four_rate = four_writers(d / "four.db", per_thread)

    print(f"activity log benchmark ({'quick' if args.quick else 'full'}: {rows:,} rows, {calls:,} calls)")
    print(f"  raw baseline executemany (WAL, synchronous=NORMAL, 1000/txn): {raw:>12,.0f} rows/s")
    print(
        f"  log_activity() no details     p50 {p50:6.2f} us  p99 {p99:6.2f} us  p99.9 {p999:6.2f} us  (goal p99 <= 5)"
    )
    print(f"  log_activity() with 1 detail  p50 {dp50:6.2f} us  p99 {dp99:6.2f} us  p99.9 {dp999:6.2f} us")
    print(
        f"  writer from a full queue:      {queue_rate:>12,.0f} rows/s  = {queue_rate / raw:.2f}x raw  (goal >= 250,000 and >= 0.45x)"
    )
    print(f"  end to end (producer + writer): {e2e_rate:>11,.0f} rows/s  = {e2e_rate / raw:.2f}x raw")
    print(
        f"  four threads, four writers on one file: {written:,} rows at {four_rate:,.0f} rows/s, "
        f"errors {errors}, busy retries {retries}, 'database is locked' reaching a caller or log: {locked}"
    )


if __name__ == "__main__":
    main()
