"""Entries and the payload that frames them.

Every entry is pickled once, when it is ``set`` (like ``shelve``): a value that cannot be
pickled is refused at once, and ``save()`` only frames, compresses and writes bytes.
Loaded entries stay pickled until someone ``get``\\ s them, so a reader pays only for the
keys it reads.

Payload (before compression)::

    u32 index length | index pickle | blob 0 | blob 1 | ...

The index is a list of ``(key, written_at, flags, length)``; flag ``COMPRESSED`` marks a
blob that ``compress_state()`` zstd-compressed in memory.
"""

from __future__ import annotations

import pickle
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import zstandard

from trading.errors import StateCorruptError, StateSerializationError
from trading.memory._unpickler import restricted_loads

__all__ = ["COMPRESSED", "MISSING", "Entry", "build_payload", "parse_payload", "pickle_value"]

COMPRESSED: Final = 1
MISSING: Final[Any] = object()
_LEN = struct.Struct(">I")
_PROTOCOL: Final = 5


@dataclass(slots=True)
class Entry:
    blob: bytes | memoryview
    written_at: float
    flags: int = 0
    value: Any = MISSING

    @property
    def size(self) -> int:
        return len(self.blob)

    def materialize(self, extra: frozenset[tuple[str, str]], path: Path | None) -> Any:
        if self.value is MISSING:
            raw = self.blob
            if self.flags & COMPRESSED:
                raw = zstandard.ZstdDecompressor().decompress(raw)
            self.value = restricted_loads(raw, extra=extra, path=path)
        return self.value


def pickle_value(key: str, value: Any, path: Path) -> bytes:
    try:
        return pickle.dumps(value, protocol=_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError, RecursionError) as exc:
        raise StateSerializationError(
            f"cannot store {type(value).__qualname__} under key {key!r} in {path}: "
            f"it cannot be pickled ({exc})",
            path=path,
        ) from exc


def build_payload(entries: Mapping[str, Entry]) -> list[bytes | memoryview]:
    index = [(key, e.written_at, e.flags, len(e.blob)) for key, e in entries.items()]
    head = pickle.dumps(index, protocol=_PROTOCOL)
    return [_LEN.pack(len(head)), head, *(e.blob for e in entries.values())]


def parse_payload(
    data: bytes | memoryview, *, extra: Iterable[tuple[str, str]], path: Path | None
) -> dict[str, Entry]:
    view = memoryview(data)
    try:
        (head_len,) = _LEN.unpack_from(view, 0)
        index = restricted_loads(view[4 : 4 + head_len], extra=extra, path=path)
        offset = 4 + head_len
        entries: dict[str, Entry] = {}
        for key, written_at, flags, length in index:
            entries[key] = Entry(
                blob=view[offset : offset + length], written_at=float(written_at), flags=int(flags)
            )
            offset += length
    except (struct.error, ValueError, TypeError, pickle.UnpicklingError, EOFError) as exc:
        raise StateCorruptError(f"state file {path}: payload is malformed ({exc})", path=path) from exc
    if offset != len(view):
        raise StateCorruptError(f"state file {path}: payload length does not match its index", path=path)
    return entries
