"""Child processes for the state store tests: ``python _child.py <mode> <path> [args]``.

increment <path> <threads> <n>: each thread does n read-modify-write increments of "counter".
save_loop <path>: prints "ready" after its first save, then saves forever, each save a new generation with a self-consistent payload.
read_loop <path> <seconds>: loads whenever the token changes; exits 1 on any inconsistency.
show <path> <key>: opens the file (no load() call) and prints repr(value) and the format version.
set <path> <key> <int>: opens the file, sets key to the integer, saves.
delete <path> <key>: opens the file, deletes key, saves.
hold_lock <lock path> [temp file]: takes the lock (and creates the temp file, as a writer in
    the middle of a save would), prints "locked", waits for a line on stdin, removes the temp
    file, releases, prints "released".
try_lock <lock path> <timeout>: prints "locked" if it gets the lock within timeout, else "timeout".
die_mid_save <path>: a writer SIGKILLed after writing its temp file, just before the rename.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import numpy as np

from trading.errors import StateLockTimeout
from trading.memory import StateManager
from trading.memory._lock import ProcessLock


def increment(path: str, threads: int, n: int) -> None:
    sm = StateManager(path, lock_timeout=60)

    def work() -> None:
        for _ in range(n):
            sm.update_with(lambda s: s.set("counter", s.get("counter", 0) + 1))

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    stats = sm.get_stats()
    print(f"{stats.lock_wait_p99_ms:.3f} {stats.lock_acquired}", flush=True)
    sm.close()


def save_loop(path: str) -> None:
    sm = StateManager(path, backups=2)
    i = 0
    while True:
        i += 1
        data = np.full(20_000 + (i % 7) * 1000, i, dtype=np.int64)
        sm.update({"i": i, "data": data, "check": int(data.sum())})
        sm.save()
        if i == 1:  # "ready" once a file exists: a kill before the first save leaves nothing to load
            print("ready", flush=True)


def read_loop(path: str, seconds: float) -> None:
    sm = StateManager(path)
    deadline = time.monotonic() + seconds
    token = None
    reads = 0
    while time.monotonic() < deadline:
        now = sm.version_token()
        if now is not None and now != token:
            sm.load()
            data = sm.get("data")
            if int(data.sum()) != sm.get("check") or int(data[0]) != sm.get("i"):
                print("inconsistent", flush=True)
                sys.exit(1)
            token = now
            reads += 1
    print(reads, flush=True)
    sm.close()


def show(path: str, key: str) -> None:
    sm = StateManager(path)  # the original design's usage: opening the file reads it
    print(repr(sm.get(key)), sm.get_version().version, flush=True)
    sm.close()


def edit(path: str, key: str, value: int | None) -> None:
    sm = StateManager(path)
    if value is None:
        assert sm.delete(key), f"{key!r} not in {path}"
    else:
        sm.set(key, value)
    sm.save()
    sm.close()


def hold_lock(lock_path: str, temp: str | None) -> None:
    lock = ProcessLock(Path(lock_path), timeout=30)
    lock.acquire()
    if temp is not None:
        Path(temp).write_bytes(b"half a state file")
    print("locked", flush=True)
    sys.stdin.readline()
    if temp is not None:
        Path(temp).unlink()
    lock.release()
    lock.close()
    print("released", flush=True)


def try_lock(lock_path: str, timeout: float) -> None:
    lock = ProcessLock(Path(lock_path), timeout=timeout)
    try:
        lock.acquire()
    except StateLockTimeout:
        print("timeout", flush=True)
        return
    lock.release()
    lock.close()
    print("locked", flush=True)


def die_mid_save(path: str) -> None:
    sm = StateManager(path)
    sm.set("i", 999)

    def killed_before_rename(src: object, dst: object) -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    os.replace = killed_before_rename  # type: ignore[assignment]  # this process dies here anyway
    sm.save()


if __name__ == "__main__":
    mode, target = sys.argv[1], sys.argv[2]
    if mode == "increment":
        increment(target, int(sys.argv[3]), int(sys.argv[4]))
    elif mode == "save_loop":
        save_loop(target)
    elif mode == "read_loop":
        read_loop(target, float(sys.argv[3]))
    elif mode == "show":
        show(target, sys.argv[3])
    elif mode == "set":
        edit(target, sys.argv[3], int(sys.argv[4]))
    elif mode == "delete":
        edit(target, sys.argv[3], None)
    elif mode == "hold_lock":
        hold_lock(target, sys.argv[3] if len(sys.argv) > 3 else None)
    elif mode == "try_lock":
        try_lock(target, float(sys.argv[3]))
    elif mode == "die_mid_save":
        die_mid_save(target)
