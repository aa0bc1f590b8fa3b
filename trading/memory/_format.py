"""The on-disk format: a fixed header, then a compressed payload.

Header (big-endian, 48 bytes)::

    magic        8s   b"TRDSTATE"
    version      H    format version (``StateVersion.CURRENT_VERSION``)
    codec        B    0 none, 1 gzip, 2 zstd
    flags        B    reserved, 0
    generation   Q    +1 on every save of this file
    write_id     Q    random per save: an exact change token
    written_ns   Q    writer's wall clock, epoch nanoseconds
    payload_len  Q    bytes of payload that follow the header
    payload_crc  I    crc32 of the (compressed) payload
    header_crc   I    crc32 of every header byte before it

A file that does not start with the magic but starts with a pickle opcode is a legacy
file (format version 0: a plain pickle of a dict).
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import zstandard

from trading.errors import StateCorruptError

__all__ = ["CODECS", "HEADER_SIZE", "MAGIC", "Header", "compress", "decompress", "encode", "parse_header"]

MAGIC: Final = b"TRDSTATE"
_HEAD = struct.Struct(">8sHBBQQQQI")
_CRC = struct.Struct(">I")
HEADER_SIZE: Final = _HEAD.size + _CRC.size
CODECS: Final = {"none": 0, "gzip": 1, "zstd": 2}
_CODEC_NAMES: Final = {v: k for k, v in CODECS.items()}
_ZSTD_LEVEL: Final = 3
_GZIP_LEVEL: Final = 6


@dataclass(frozen=True, slots=True)
class Header:
    version: int
    codec: str
    generation: int
    write_id: int
    written_ns: int
    payload_len: int
    payload_crc: int

    def pack(self) -> bytes:
        head = _HEAD.pack(
            MAGIC,
            self.version,
            CODECS[self.codec],
            0,
            self.generation,
            self.write_id,
            self.written_ns,
            self.payload_len,
            self.payload_crc,
        )
        return head + _CRC.pack(zlib.crc32(head))


def _threads() -> int:
    return min(4, os.cpu_count() or 1)


def compress(data: bytes | memoryview, codec: str) -> bytes | memoryview:
    if codec == "zstd":
        threads = _threads() if len(data) > (1 << 20) else 0
        return zstandard.ZstdCompressor(level=_ZSTD_LEVEL, threads=threads).compress(data)
    if codec == "gzip":
        return gzip.compress(data, compresslevel=_GZIP_LEVEL, mtime=0)
    return data


def decompress(data: bytes | memoryview, codec: str, *, path: Path | None = None) -> bytes | memoryview:
    try:
        if codec == "zstd":
            return zstandard.ZstdDecompressor().decompress(data)
        if codec == "gzip":
            return gzip.decompress(data)
    except (zstandard.ZstdError, OSError, EOFError, zlib.error) as exc:
        raise StateCorruptError(
            f"state file {path}: {codec} payload does not decompress: {exc}", path=path
        ) from exc
    return data


def encode(
    payload: bytes | memoryview, *, codec: str, version: int, generation: int, write_id: int, written_ns: int
) -> tuple[Header, bytes | memoryview]:
    """Compress ``payload`` and build its header; returns ``(header, body)``."""
    body = compress(payload, codec)
    header = Header(
        version=version,
        codec=codec,
        generation=generation,
        write_id=write_id,
        written_ns=written_ns,
        payload_len=len(body),
        payload_crc=zlib.crc32(body),
    )
    return header, body


def parse_header(raw: bytes, *, path: Path | None = None) -> Header | None:
    """The header at the start of ``raw``; ``None`` for a legacy (headerless pickle) file.

    Raises ``StateCorruptError`` for a damaged header or a file that is not ours.
    """
    if not raw.startswith(MAGIC):
        if raw[:1] == b"\x80":  # PROTO opcode: a plain pickle, the legacy format
            return None
        raise StateCorruptError(
            f"{path} is not a state file: it starts with {raw[:8]!r}, expected {MAGIC!r} or a pickle",
            path=path,
        )
    if len(raw) < HEADER_SIZE:
        raise StateCorruptError(
            f"state file {path} is truncated inside its header ({len(raw)} bytes)", path=path
        )
    head = raw[: _HEAD.size]
    (crc,) = _CRC.unpack_from(raw, _HEAD.size)
    if zlib.crc32(head) != crc:
        raise StateCorruptError(f"state file {path}: header checksum mismatch", path=path)
    _, version, codec, _flags, generation, write_id, written_ns, length, payload_crc = _HEAD.unpack(head)
    if codec not in _CODEC_NAMES:
        raise StateCorruptError(f"state file {path}: unknown codec id {codec}", path=path)
    return Header(
        version=version,
        codec=_CODEC_NAMES[codec],
        generation=generation,
        write_id=write_id,
        written_ns=written_ns,
        payload_len=length,
        payload_crc=payload_crc,
    )


def check_payload(header: Header, body: memoryview, *, path: Path | None = None) -> None:
    if len(body) != header.payload_len:
        raise StateCorruptError(
            f"state file {path} is truncated: payload has {len(body)} bytes, "
            f"header says {header.payload_len}",
            path=path,
        )
    if zlib.crc32(body) != header.payload_crc:
        raise StateCorruptError(f"state file {path}: payload checksum mismatch", path=path)
