"""Benchmark of the StateManager against a raw, hand-written baseline measured in the same run.

State: a DataFrame of N ticks (timestamp, symbol with 6 values, price, qty), 1,000 position
dicts, 10,000 activity-log dicts. Baseline save: pickle protocol 5, zstd level 3, temp file +
fsync + os.replace; baseline load: read, decompress, unpickle.

    .venv/bin/python bench/bench_state.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import zstandard

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trading.memory import StateManager


def make_state(ticks: int) -> dict[str, object]:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "timestamp": pd.date_range("2026-01-05", periods=ticks, freq="ms", tz="UTC"),
            "symbol": rng.choice(["ES", "NQ", "CL", "GC", "ZB", "6E"], ticks),
            "price": rng.random(ticks) * 100 + 4000,
            "qty": rng.integers(1, 10, ticks),
        }
    )
    positions = {
        f"P{i}": {"symbol": "ES", "qty": i % 7, "avg": 5000.0 + i, "upnl": i * 1.5} for i in range(1000)
    }
    activity = [
        {"ts": 1.7e9 + i, "kind": "fill", "msg": f"filled order {i}", "qty": i % 5} for i in range(10_000)
    ]
    return {"ticks": frame, "positions": positions, "activity": activity}


def raw_save(path: Path, state: dict[str, object]) -> None:
    body = zstandard.ZstdCompressor(level=3).compress(pickle.dumps(state, protocol=5))
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        f.write(body)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def raw_load(path: Path) -> dict[str, object]:
    return pickle.loads(zstandard.ZstdDecompressor().decompress(path.read_bytes()))


def best(fn, repeats: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_save_load(directory: Path, ticks: int, repeats: int) -> None:
    state = make_state(ticks)
    raw_path, sm_path = directory / f"raw{ticks}.pkl", directory / f"sm{ticks}.pkl"
    sm = StateManager(sm_path, max_memory_mb=4096)

    def sm_set_save() -> None:
        sm.update(state)
        sm.save()

    def sm_load_all() -> None:
        reader = StateManager(sm_path)  # opening reads the file
        for key in state:
            reader.get(key)
        reader.close()

    raw_s = best(lambda: raw_save(raw_path, state), repeats)
    set_save = best(sm_set_save, repeats)
    save_only = best(sm.save, repeats)
    raw_l = best(lambda: raw_load(raw_path), repeats)
    load_all = best(sm_load_all, repeats)
    reader = StateManager(sm_path)
    load_only = best(reader.load, repeats)
    snapshot_only = best(lambda: (reader.load(), reader.get("positions")), repeats)
    reader.close()
    sm.close()
    size = sm_path.stat().st_size / 1e6
    print(
        f"\n== {ticks:,} ticks, 1,000 positions, 10,000 activity dicts; file {size:.1f} MB (median of {repeats})"
    )
    print(f"raw baseline save (pickle5+zstd3+fsync+replace) {raw_s * 1e3:8.1f} ms")
    print(
        f"StateManager set()+save()                      {set_save * 1e3:8.1f} ms  ratio {set_save / raw_s:.2f}x"
    )
    print(
        f"StateManager save() (values pickled at set)    {save_only * 1e3:8.1f} ms  ratio {save_only / raw_s:.2f}x"
    )
    print(f"raw baseline load (read+unzstd+unpickle)        {raw_l * 1e3:8.1f} ms")
    print(
        f"StateManager(path)+get() every key             {load_all * 1e3:8.1f} ms  ratio {load_all / raw_l:.2f}x"
    )
    print(
        f"StateManager load() (entries unpickled lazily)  {load_only * 1e3:8.1f} ms  ratio {load_only / raw_l:.2f}x"
    )
    print(
        f"StateManager load()+get() one small key         {snapshot_only * 1e3:8.1f} ms  ratio {snapshot_only / raw_l:.2f}x"
    )


def bench_token(directory: Path, samples: int) -> None:
    sm = StateManager(directory / "token.pkl")
    sm.set("a", 1)
    sm.save()
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        sm.version_token()
        times.append(time.perf_counter() - start)
    raw = []
    for _ in range(samples):
        start = time.perf_counter()
        os.stat(sm.path)
        raw.append(time.perf_counter() - start)
    sm.close()
    times.sort()
    raw.sort()
    p50, p99 = times[len(times) // 2] * 1e6, times[int(len(times) * 0.99)] * 1e6
    print(
        f"\n== version_token(): p50 {p50:.2f} us, p99 {p99:.2f} us (os.stat p50 {raw[len(raw) // 2] * 1e6:.2f} us, "
        f"ratio {times[len(times) // 2] / raw[len(raw) // 2]:.2f}x)"
    )


_WORKER = """
import sys, time
sys.path.insert(0, {root!r})
from trading.memory import StateManager
sm = StateManager({path!r}, lock_timeout=60)
deadline = time.monotonic() + {seconds}
n = 0
while time.monotonic() < deadline:
    sm.update_with(lambda s: s.set("counter", s.get("counter", 0) + 1))
    n += 1
st = sm.get_stats()
print(n, st.lock_wait_p50_ms, st.lock_wait_p99_ms, st.lock_wait_max_ms, st.lock_acquired, flush=True)
sm.close()
"""


def bench_rmw(directory: Path, seconds: float) -> None:
    path = directory / "rmw.pkl"
    root = str(Path(__file__).resolve().parents[1])
    code = _WORKER.format(root=root, path=str(path), seconds=seconds)
    procs = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) for _ in range(2)
    ]
    start = time.perf_counter()
    outs = [p.communicate()[0].split() for p in procs]
    elapsed = time.perf_counter() - start
    done = sum(int(o[0]) for o in outs)
    sm = StateManager(path)
    final = sm.get("counter")
    sm.close()
    # raw baseline: one process, no contention, same fsync'd write per update
    raw_path = directory / "rmw_raw.pkl"
    n = 0
    state = {"counter": 0}
    raw_start = time.perf_counter()
    while time.perf_counter() - raw_start < min(seconds, 2.0):
        state["counter"] += 1
        raw_save(raw_path, state)
        n += 1
    raw_rate = n / (time.perf_counter() - raw_start)
    rate = done / seconds
    print(f"\n== cross-process read-modify-write, 2 processes x {seconds:.0f} s, fsync on")
    print(f"updates done {done}, counter {final}, lost {done - final}")
    print(
        f"throughput {rate:,.0f} updates/s (raw single-process write loop {raw_rate:,.0f}/s, ratio {rate / raw_rate:.2f}x)"
    )
    for i, o in enumerate(outs):
        print(
            f"process {i}: {o[0]} updates, lock wait p50 {float(o[1]):.3f} ms, p99 {float(o[2]):.3f} ms, "
            f"max {float(o[3]):.3f} ms"
        )
    print(f"(wall {elapsed:.1f} s including interpreter start-up)")


def bench_category(ticks: int) -> None:
    frame = make_state(ticks)["ticks"]
    assert isinstance(frame, pd.DataFrame)
    as_str = best(lambda: pickle.dumps(frame, protocol=5), 5)
    cat = frame.assign(symbol=frame["symbol"].astype("category"))
    as_cat = best(lambda: pickle.dumps(cat, protocol=5), 5)
    convert = best(lambda: frame["symbol"].astype("category"), 5)
    print(
        f"\n== symbol column dtype {frame['symbol'].dtype} ({frame['symbol'].array.__class__.__name__}), {ticks:,} ticks"
    )
    print(
        f"pickle frame with str symbol {as_str * 1e3:.1f} ms; with category {as_cat * 1e3:.1f} ms "
        f"(ratio {as_cat / as_str:.2f}x); converting to category costs {convert * 1e3:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="short run: fewer repeats and a shorter RMW test"
    )
    args = parser.parse_args()
    repeats = 3 if args.quick else 7
    with tempfile.TemporaryDirectory(dir=Path(__file__).resolve().parents[1] / "data") as tmp:
        directory = Path(tmp)
        bench_save_load(directory, 200_000, repeats)
        bench_token(directory, 20_000 if args.quick else 200_000)
        bench_rmw(directory, 2.0 if args.quick else 5.0)
        bench_category(200_000)
        bench_save_load(directory, 2_000_000, 1 if args.quick else 3)


if __name__ == "__main__":
    main()
