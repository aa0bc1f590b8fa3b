"""``StateManager``: a versioned, locked, crash-safe, compressed key-value state file.

It knows nothing of trading. One process (the desk) writes, others (the dashboard) read:

* ``StateManager(path)`` reads an existing file at once (like ``shelve.open``): a second
  process that opens the file sees its content; ``load()`` reads it again later. A missing
  file is an empty state; a bad (corrupt or unsafe) one goes through recovery;
* values are pickled when ``set`` (like ``shelve``): the stored value is the value as of
  ``set``; mutate a value in place and ``set`` it again to store the change;
* ``save()`` frames, compresses and writes crash-safely (see ``_files``), under a
  cross-process lock; if another process saved since this one last synced, its file is
  merged first (keys this manager changed or removed win), so no writer clobbers another's
  keys and no removed key comes back;
* ``transaction()`` / ``update_with()`` are atomic cross-process read-modify-writes;
* ``version_token()`` reads 48 header bytes: a reader polls it and ``load()``\\ s only
  when it changed. Readers never need the lock, and never see a half-written file.

The manager holds its parts, each owning its own state: the ``EntryTable`` (entries and
unsaved changes), ``MemoryMaintenance`` (the memory budget, age cleanup, compression),
``StateRecovery`` (backups and bad files) and the ``ProcessLock``.
"""

from __future__ import annotations

import contextlib
import os
import random
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from trading.clock import Clock, LiveClock
from trading.errors import ConfigError, StateCorruptError, StateError, UnsafeStateError
from trading.memory import _files
from trading.memory._entries import Entry, build_payload, pickle_value
from trading.memory._format import MAGIC, Header, encode, parse_header
from trading.memory._lock import StateLock
from trading.memory._maintenance import MemoryMaintenance
from trading.memory._memory import MemoryProbe, MemoryUsage, system_memory
from trading.memory._reader import Loaded, Migration, StateReader, disk_token, materialize
from trading.memory._recovery import StateRecovery
from trading.memory._table import EntryTable
from trading.memory._types import StateStats, StateVersion
from trading.memory._unpickler import type_key
from trading.memory.config import StateConfig

__all__ = ["StateManager"]

T = TypeVar("T")
_BUILTIN_MIGRATIONS: dict[int, Migration] = {0: dict}  # legacy plain dict -> version 1: same content


class StateManager:
    """A dict-like state store backed by one file; see the module docstring.

    ``load=False`` skips reading the file at construction, for a caller that calls
    ``load()`` itself to apply its own policy to an unreadable file.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        compression: str = "zstd",
        backups: int = 5,
        max_memory_mb: float = 512.0,
        autosave: float | None = None,
        clock: Clock | None = None,
        allowed_types: tuple[type, ...] = (),
        migrations: Mapping[int, Migration] | None = None,
        memory_probe: MemoryProbe | None = None,
        load: bool = True,
        **settings: Any,
    ) -> None:
        self._path = Path(path).absolute()
        try:
            self._cfg = StateConfig(
                compression=compression,  # type: ignore[arg-type]  # pydantic validates the literal
                backups=backups,
                max_memory_mb=max_memory_mb,
                autosave=autosave,
                **settings,
            )
        except ValidationError as exc:
            raise ConfigError(
                f"invalid StateManager settings for {self._path}: {exc}", path=self._path
            ) from exc
        if not self._path.parent.is_dir():
            raise StateError(
                f"state directory {self._path.parent} does not exist (state file {self._path})",
                path=self._path,
            )
        if self._path.is_dir():
            raise StateError(f"state path {self._path} is a directory, expected a file", path=self._path)
        self._clock = clock or LiveClock()
        self._extra = frozenset(type_key(t) for t in allowed_types)
        self._reader = StateReader(
            version=self._cfg.version,
            migrations={**_BUILTIN_MIGRATIONS, **(migrations or {})},
            extra=self._extra,
            clock=self._clock,
        )
        self._lock = StateLock(
            self._path.with_name(self._path.name + ".lock"), timeout=self._cfg.lock_timeout
        )
        self._rlock = self._lock.thread
        self._table = EntryTable()
        self._maintenance = MemoryMaintenance(
            self._table,
            config=self._cfg,
            clock=self._clock,
            probe=memory_probe or system_memory,
            path=self._path,
        )
        # the parts get the reader's and the lock's methods, never the manager's: no reference cycle
        self._recovery = StateRecovery(self._path, read=self._reader.read, lock=self._lock.held)
        self._synced_token: bytes | None = None
        self._version = StateVersion(self._cfg.version, 0, self._cfg.compression, None, 0)
        self._last_save_mono = self._clock.monotonic()
        self._last_backup_mono: float | None = None
        self._temp_files_checked = False
        self._counts = dict.fromkeys(("saves", "loads", "transactions"), 0)
        self._timings = {"save": 0.0, "load": 0.0}
        if load:
            try:
                self.load()
            except BaseException:
                self.close()
                raise

    # --- dict-like access ---------------------------------------------------------

    @property
    def path(self) -> Path:
        return self._path

    def get(self, key: str, default: Any = None) -> Any:
        with self._rlock:
            entry = self._table.entries.get(key)
            if entry is None:
                return default
            return materialize(entry, key, self._extra, self._path)

    def set(self, key: str, value: Any) -> None:
        entry = self._new_entry(key, value)
        with self._rlock:
            self._table.put(key, entry)
        self._maybe_autosave()

    def update(self, mapping: Mapping[str, Any]) -> None:
        """Set several keys at once: if any value cannot be pickled, none is set."""
        prepared = {key: self._new_entry(key, value) for key, value in mapping.items()}
        with self._rlock:
            for key, entry in prepared.items():
                self._table.put(key, entry)
        self._maybe_autosave()

    def delete(self, key: str) -> bool:
        """Remove ``key``; return whether it was there. The removal survives a merging save."""
        with self._rlock:
            removed = self._table.remove(key)
        if removed:
            self._maybe_autosave()
        return removed

    def clear(self) -> None:
        with self._rlock:
            self._table.clear()
        self._maybe_autosave()

    def keys(self) -> list[str]:
        with self._rlock:
            return list(self._table.entries)

    def items(self) -> list[tuple[str, Any]]:
        with self._rlock:
            return [(k, materialize(e, k, self._extra, self._path)) for k, e in self._table.entries.items()]

    def __contains__(self, key: object) -> bool:
        return key in self._table.entries

    def __len__(self) -> int:
        return len(self._table)

    def __getitem__(self, key: str) -> Any:
        with self._rlock:
            if key not in self._table.entries:
                raise KeyError(key)
            return materialize(self._table.entries[key], key, self._extra, self._path)

    def __setitem__(self, key: str, value: Any) -> None:
        self.set(key, value)

    def __delitem__(self, key: str) -> None:
        if not self.delete(key):
            raise KeyError(key)

    def _new_entry(self, key: str, value: Any) -> Entry:
        if not isinstance(key, str):
            raise StateError(
                f"state keys must be str, got {type(key).__name__} {key!r} for {self._path}", path=self._path
            )
        return Entry(
            blob=pickle_value(key, value, self._path), written_at=self._clock.timestamp(), value=value
        )

    def _maybe_autosave(self) -> None:
        interval = self._cfg.autosave
        if interval is not None and self._clock.monotonic() - self._last_save_mono >= interval:
            self.save()

    # --- memory maintenance -------------------------------------------------------

    def get_memory_usage(self) -> MemoryUsage:
        with self._rlock:
            return self._maintenance.usage()

    def cleanup_old_data(self, max_age_hours: float = 24) -> int:
        """Remove entries last written more than ``max_age_hours`` ago; return how many."""
        with self._rlock:
            return self._maintenance.remove_older_than(max_age_hours)

    def compress_state(self, older_than_s: float = 3600.0) -> int:
        """Hold entries untouched for ``older_than_s`` as zstd-compressed bytes; return how many."""
        with self._rlock:
            return self._maintenance.compress_older_than(older_than_s)

    # --- persistence ------------------------------------------------------------------

    def version_token(self) -> bytes | None:
        """An opaque token that changes whenever the file is replaced; None if there is no file."""
        return disk_token(self._path)

    def load(self) -> bool:
        """Replace the in-memory state with the file's (unsaved changes are dropped).

        Returns False when there is no file and no backup (the in-memory state is kept). A
        bad file (corrupt, or unsafe: naming a callable outside the allow-list) is replaced
        by the newest good backup (WARNING naming both, the bad file is moved aside); without
        a good backup its error is raised and the file left in place. A newer-version file
        raises ``StateVersionError`` and is left untouched.
        """
        with self._rlock:
            start = time.perf_counter()
            try:
                loaded = self._reader.read(self._path)
            except FileNotFoundError:
                recovered = self._recovery.recover(None)
                if recovered is None:
                    return False
                loaded = recovered
            except (StateCorruptError, UnsafeStateError) as exc:
                recovered = self._recovery.recover(exc)
                assert recovered is not None  # recover() raises rather than return None for a bad file
                loaded = recovered
            self._table.replace(loaded.entries)
            self._adopt(loaded)
            self._counts["loads"] += 1
            self._timings["load"] = time.perf_counter() - start
            return True

    def save(self) -> StateVersion:
        """Write the state crash-safely (merging another writer's newer file first)."""
        with self._rlock:
            start = time.perf_counter()
            self._maintenance.enforce_budget()
            header, body = self._encode()
            with self._lock.held():
                on_disk = disk_token(self._path)
                if on_disk not in (None, self._synced_token):
                    self._refresh_locked()
                    header, body = self._encode()
                    on_disk = disk_token(self._path)
                self._write_locked(header, body, on_disk)
            self._timings["save"] = time.perf_counter() - start
            return self._version

    def _encode(self) -> tuple[Header, bytes | memoryview]:
        return encode(
            b"".join(build_payload(self._table.entries)),
            codec=self._cfg.compression,
            version=self._cfg.version,
            generation=0,
            write_id=0,
            written_ns=0,
        )

    def _write_locked(self, header: Header, body: bytes | memoryview, on_disk: bytes | None) -> None:
        now = self._clock.monotonic()
        backup = self._last_backup_mono is None or now - self._last_backup_mono >= self._cfg.backup_interval
        disk_header = parse_header(on_disk) if on_disk and on_disk.startswith(MAGIC) else None
        retiring = disk_header.generation if disk_header is not None else 0
        generation = max(retiring, self._version.generation) + 1
        final = header.__class__(
            version=header.version,
            codec=header.codec,
            generation=generation,
            write_id=random.getrandbits(63) | 1,
            written_ns=time.time_ns(),
            payload_len=header.payload_len,
            payload_crc=header.payload_crc,
        )
        packed = final.pack()
        try:
            if not self._temp_files_checked:  # once per manager: a killed writer's leftovers
                _files.remove_stale_temp_files(self._path)
                self._temp_files_checked = True
            _files.atomic_write(
                self._path,
                packed,
                body,
                fsync=self._cfg.fsync,
                backups=self._cfg.backups if backup else 0,
                retiring_generation=retiring if on_disk is not None else None,
            )
            if backup and on_disk is not None:
                self._last_backup_mono = now
        except OSError as exc:
            raise StateError(
                f"cannot save state to {self._path}: {exc.strerror or exc} (the previous file is untouched)",
                path=self._path,
            ) from exc
        self._synced_token = packed
        self._table.mark_saved()
        self._version = StateVersion.from_ns(
            final.version, generation, final.codec, final.written_ns, final.write_id
        )
        self._last_save_mono = self._clock.monotonic()
        self._counts["saves"] += 1

    @contextlib.contextmanager
    def transaction(self) -> Iterator[StateManager]:
        """An atomic cross-process read-modify-write: ``with sm.transaction() as state: ...``.

        Under the thread and process locks the latest file is merged in, the body runs, and
        the result is saved. If the body raises, the in-memory state is rolled back and
        nothing is written.
        """
        with self._rlock, self._lock.held():
            if disk_token(self._path) not in (None, self._synced_token):
                self._refresh_locked()
            before = self._table.checkpoint()
            try:
                yield self
            except BaseException:
                self._table.rollback(before)
                raise
            self._counts["transactions"] += 1
            self.save()

    def update_with(self, fn: Callable[[StateManager], T]) -> T:
        """Run ``fn(state)`` inside ``transaction()`` and return its result."""
        with self.transaction() as state:
            return fn(state)

    def _adopt(self, loaded: Loaded) -> None:
        self._synced_token = loaded.token
        h = loaded.header
        if h is None:
            self._version = StateVersion(0, 0, "none", None, 0)
        else:
            self._version = StateVersion.from_ns(h.version, h.generation, h.codec, h.written_ns, h.write_id)
        if loaded.version < self._cfg.version:
            self._table.mark_all_pending()  # migrated in memory: every entry must reach disk

    def _refresh_locked(self) -> None:
        """Merge a file another process saved: its entries, then this manager's pending changes."""
        try:
            loaded = self._reader.read(self._path)
        except FileNotFoundError:
            return
        except (StateCorruptError, UnsafeStateError) as exc:
            self._recovery.set_aside(exc)
            return
        self._table.merge_under(loaded.entries)
        self._adopt(loaded)

    # --- observability and lifecycle ------------------------------------------------

    def get_version(self) -> StateVersion:
        """The format version (``.version``), generation, codec and write of the file last synced."""
        return self._version

    def get_stats(self) -> StateStats:
        with self._rlock:
            lock = self._lock.process
            return StateStats(
                entries=len(self._table),
                state_bytes=self._table.size_bytes(),
                generation=self._version.generation,
                **self._counts,
                recoveries=self._recovery.recoveries,
                evicted=self._maintenance.evicted,
                last_save_ms=self._timings["save"] * 1e3,
                last_load_ms=self._timings["load"] * 1e3,
                lock_acquired=lock.acquired,
                lock_contended=lock.contended,
                lock_wait_p50_ms=lock.wait_percentile(0.50) * 1e3,
                lock_wait_p99_ms=lock.wait_percentile(0.99) * 1e3,
                lock_wait_max_ms=lock.wait_percentile(1.0) * 1e3,
            )

    statistics = get_stats

    def close(self) -> None:
        self._lock.close()

    def __enter__(self) -> StateManager:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is None:
                self.save()
        finally:
            self.close()

    def __repr__(self) -> str:
        return (
            f"StateManager({str(self._path)!r}, entries={len(self._table)}, "
            f"pending={len(self._table.pending)}, generation={self._version.generation}, "
            f"codec={self._cfg.compression!r})"
        )
