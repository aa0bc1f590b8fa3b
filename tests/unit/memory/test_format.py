"""Versioned header, legacy files, migrations, newer versions, codecs and compress_state."""

from __future__ import annotations

import logging
import pickle
from pathlib import Path
from typing import Any

import pytest

from trading.clock import TestClock
from trading.errors import StateCorruptError, StateVersionError
from trading.memory import StateManager, StateVersion
from trading.memory._format import HEADER_SIZE, MAGIC, parse_header


def test_format_header_records_magic_version_codec_length_and_checksum(
    manager: StateManager, state_path: Path
) -> None:
    manager.set("a", 1)
    manager.save()

    raw = state_path.read_bytes()
    header = parse_header(raw)

    assert raw.startswith(MAGIC)
    assert header is not None
    assert header.version == StateVersion.CURRENT_VERSION
    assert header.codec == "zstd"
    assert header.payload_len == len(raw) - HEADER_SIZE
    assert header.generation == 1


def test_format_damaged_header_is_detected(manager: StateManager, state_path: Path) -> None:
    manager.set("a", 1)
    manager.save()
    raw = bytearray(state_path.read_bytes())
    raw[12] ^= 0xFF  # inside the header

    with pytest.raises(StateCorruptError, match="header checksum mismatch"):
        parse_header(bytes(raw))


def test_format_legacy_plain_pickle_loads_and_is_upgraded_on_save(
    state_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state_path.write_bytes(pickle.dumps({"positions": {"ES": 2}, "n": 3}, protocol=4))

    with caplog.at_level(logging.INFO, logger="trading.memory"):
        sm = StateManager(state_path)  # reads the file at construction

    assert sm.get("positions") == {"ES": 2} and sm.get("n") == 3
    assert sm.get_version().version == 0
    assert sm.load() is True  # and again on demand
    assert "migrated state file" in caplog.text and "from version 0 to 1" in caplog.text
    sm.save()
    assert state_path.read_bytes().startswith(MAGIC)
    sm.close()


def _v1_to_v2(state: dict[str, Any]) -> dict[str, Any]:
    state["positions"] = {sym: {"qty": qty} for sym, qty in state.pop("pos").items()}
    return state


def test_format_registered_migration_upgrades_older_file_on_load(state_path: Path) -> None:
    with StateManager(state_path) as old:
        old.set("pos", {"ES": 2})

    new = StateManager(state_path, version=2, migrations={1: _v1_to_v2})

    assert new.get("positions") == {"ES": {"qty": 2}}
    assert "pos" not in new
    assert new.get_version().version == 1  # as found on disk; the upgrade lands on save
    new.save()
    assert new.get_version().version == 2
    new.close()


def test_format_missing_migration_raises_version_error(state_path: Path) -> None:
    with StateManager(state_path) as old:
        old.set("a", 1)

    with pytest.raises(StateVersionError, match=r"no migration registered from version 2 to 3"):
        StateManager(state_path, version=3, migrations={1: _v1_to_v2})
    new = StateManager(state_path, version=3, migrations={1: _v1_to_v2}, load=False)
    with pytest.raises(StateVersionError, match=r"no migration registered from version 2 to 3"):
        new.load()
    new.close()


def test_format_newer_file_is_refused_and_left_untouched(state_path: Path) -> None:
    old = StateManager(state_path)  # opened before the newer writer wrote: empty
    with StateManager(state_path, version=2, migrations={1: _v1_to_v2}) as newer:
        newer.set("a", 1)
    saved = state_path.read_bytes()

    with pytest.raises(StateVersionError, match=r"format version 2, newer than this code's 1"):
        StateManager(state_path)
    with pytest.raises(StateVersionError, match=r"format version 2, newer than this code's 1"):
        old.load()
    old.set("b", 2)
    with pytest.raises(StateVersionError):
        old.save()  # a writer must not clobber a newer file either
    old.close()

    assert state_path.read_bytes() == saved


@pytest.mark.parametrize("codec", ["zstd", "gzip", "none"])
def test_format_any_codec_file_loads_whatever_current_setting(state_path: Path, codec: str) -> None:
    with StateManager(state_path, compression=codec) as writer:
        writer.set("text", "abc" * 1000)

    reader = StateManager(state_path, compression="gzip" if codec != "gzip" else "none")

    assert reader.get("text") == "abc" * 1000
    assert reader.get_version().codec == codec
    reader.close()


def test_format_compression_shrinks_repetitive_state(tmp_path: Path) -> None:
    sizes = {}
    for codec in ("none", "gzip", "zstd"):
        path = tmp_path / f"{codec}.pkl"
        with StateManager(path, compression=codec) as sm:
            sm.set("log", [{"event": "fill", "symbol": "ES", "i": i} for i in range(2000)])
        sizes[codec] = path.stat().st_size

    assert sizes["zstd"] < sizes["none"] / 5
    assert sizes["gzip"] < sizes["none"] / 5


def test_format_compress_state_compresses_old_entries_in_memory(state_path: Path, clock: TestClock) -> None:
    sm = StateManager(state_path, clock=clock)
    sm.set("old", ["row"] * 5000)
    clock.advance(7200)
    sm.set("new", ["row"] * 5000)
    before = sm.get_memory_usage().state_bytes

    compressed = sm.compress_state(older_than_s=3600)

    usage = sm.get_memory_usage()
    assert compressed == 1
    assert usage.compressed_entries == 1
    assert usage.state_bytes < before * 0.6
    assert sm.get("old") == ["row"] * 5000  # transparently decompressed
    sm.save()
    reader = StateManager(state_path)
    reader.load()
    assert reader.get("old") == ["row"] * 5000
    sm.close()
    reader.close()
