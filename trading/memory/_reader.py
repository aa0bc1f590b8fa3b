"""Reading a state file: validate the header, decode, migrate older versions."""

from __future__ import annotations

import logging
import os
import pickle
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trading.clock import Clock
from trading.errors import StateCorruptError, StateError, StateVersionError, UnsafeStateError
from trading.memory._entries import Entry, parse_payload, pickle_value
from trading.memory._format import HEADER_SIZE, MAGIC, Header, check_payload, decompress, parse_header
from trading.memory._unpickler import restricted_loads

__all__ = ["Loaded", "Migration", "StateReader", "disk_token", "read_state_file"]

logger = logging.getLogger(__name__)

Migration = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Loaded:
    path: Path
    header: Header | None  # None: a legacy file
    entries: dict[str, Entry]
    token: bytes
    inode: int
    version: int  # the version the file had on disk (before migration)
    mtime: float


def _legacy_token(st: os.stat_result) -> bytes:
    return b"legacy:%d:%d:%d" % (st.st_ino, st.st_mtime_ns, st.st_size)


def disk_token(path: Path) -> bytes | None:
    """The header bytes of ``path`` (an exact change token), a stat token for legacy files, or None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        head = os.read(fd, HEADER_SIZE)
        if head.startswith(MAGIC):
            return head
        return _legacy_token(os.fstat(fd))
    finally:
        os.close(fd)


def _read_legacy(raw: bytes, path: Path, mtime: float, extra: frozenset[tuple[str, str]]) -> dict[str, Entry]:
    try:
        obj = restricted_loads(raw, extra=extra, path=path)
    except UnsafeStateError:
        raise
    except Exception as exc:  # any unpickling failure of a damaged legacy file means "corrupt"
        raise StateCorruptError(f"legacy state file {path} does not unpickle: {exc!r}", path=path) from exc
    if not isinstance(obj, dict):
        raise StateCorruptError(
            f"legacy state file {path} holds {type(obj).__name__}, expected a dict", path=path
        )
    return {
        str(k): Entry(blob=pickle_value(str(k), v, path), written_at=mtime, value=v) for k, v in obj.items()
    }


def _migrate(
    entries: dict[str, Entry],
    from_version: int,
    to_version: int,
    migrations: Mapping[int, Migration],
    path: Path,
    extra: frozenset[tuple[str, str]],
    now: float,
) -> dict[str, Entry]:
    missing = [v for v in range(from_version, to_version) if v not in migrations]
    if missing:  # check the whole chain before running any step
        raise StateVersionError(
            f"state file {path} has version {from_version}; no migration registered from version "
            f"{missing[0]} to {missing[0] + 1} (registered: {sorted(migrations)})",
            path=path,
        )
    state = {k: e.materialize(extra, path) for k, e in entries.items()}
    for version in range(from_version, to_version):
        state = migrations[version](state)
    logger.info("migrated state file %s from version %s to %s", path, from_version, to_version)
    return {
        k: Entry(
            blob=pickle_value(k, v, path), written_at=entries[k].written_at if k in entries else now, value=v
        )
        for k, v in state.items()
    }


def read_state_file(
    path: Path,
    *,
    version: int,
    migrations: Mapping[int, Migration],
    extra: frozenset[tuple[str, str]],
    now: float,
) -> Loaded:
    """Read, validate and decode ``path``; migrate it up to ``version`` in memory (never on disk)."""
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            raw = f.read()
    except FileNotFoundError:
        raise
    except IsADirectoryError as exc:
        raise StateError(f"state path {path} is a directory, expected a file", path=path) from exc
    except OSError as exc:
        raise StateError(f"cannot read state file {path}: {exc.strerror}", path=path) from exc
    header = parse_header(raw, path=path)
    if header is None:
        entries = _read_legacy(raw, path, st.st_mtime, extra)
        file_version, token = 0, _legacy_token(st)
    else:
        if header.version > version:
            raise StateVersionError(
                f"state file {path} has format version {header.version}, newer than this code's {version}: "
                "refusing to read it (the file is left untouched; upgrade the reader)",
                path=path,
            )
        body = memoryview(raw)[HEADER_SIZE:]
        check_payload(header, body, path=path)
        entries = parse_payload(decompress(body, header.codec, path=path), extra=extra, path=path)
        file_version, token = header.version, raw[:HEADER_SIZE]
    if file_version < version:
        entries = _migrate(entries, file_version, version, migrations, path, extra, now)
    return Loaded(
        path=path,
        header=header,
        entries=entries,
        token=token,
        inode=st.st_ino,
        version=file_version,
        mtime=st.st_mtime,
    )


class StateReader:
    """``read_state_file`` with one store's settings: format version, migrations, admitted types."""

    def __init__(
        self,
        *,
        version: int,
        migrations: Mapping[int, Migration],
        extra: frozenset[tuple[str, str]],
        clock: Clock,
    ) -> None:
        self._version = version
        self._migrations = migrations
        self._extra = extra
        self._clock = clock

    def read(self, path: Path) -> Loaded:
        return read_state_file(
            path,
            version=self._version,
            migrations=self._migrations,
            extra=self._extra,
            now=self._clock.timestamp(),
        )

    def __repr__(self) -> str:
        return f"StateReader(version={self._version}, migrations={sorted(self._migrations)})"


def materialize(entry: Entry, key: str, extra: frozenset[tuple[str, str]], path: Path) -> Any:
    try:
        return entry.materialize(extra, path)
    except UnsafeStateError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError) as exc:
        raise StateCorruptError(f"entry {key!r} of {path} does not unpickle: {exc!r}", path=path) from exc
