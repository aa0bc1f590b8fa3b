"""trading/risk/config_reader.py: the risk file is read and validated off the event loop, with a
time limit; a hostile file costs at most a refused reload."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

import pytest

from trading.risk import RiskManager, load_risk_config
from trading.risk.config_reader import RiskConfigReader

GOOD = "rules:\n  max_contracts: {limit: 2}\n"
# About 150 kB of one long list: a second or so for the pure-Python parser; a config file takes milliseconds.
SLOW = "rules:\n  max_contracts: {limit: 2}\nnotes: [" + "x, " * 50_000 + "x]\n"
TIMED_OUT = r"not read and validated within 0\.2 s \(a config file takes milliseconds\): refused, the running rules stay"
TOO_SLOW = r"still parsing after [\d,]+ nodes: too slow for a config file"
BOMB = "lolz: &a [lol, lol, lol]\nmore: [*a, *a, *a]\n"


def _write(path: Path, text: str) -> None:
    path.write_text(text)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


@pytest.fixture
def risk_file(tmp_path: Path) -> Path:
    path = tmp_path / "risk.yaml"
    path.write_text(GOOD)
    return path


async def _ticks_while(awaitable):
    """Run ``awaitable`` while a ticker counts its turns on the same loop; (result, ticks)."""
    ticks = 0
    done = False

    async def ticker() -> None:
        nonlocal ticks
        while not done:
            ticks += 1
            await asyncio.sleep(0.005)

    task = asyncio.create_task(ticker())
    try:
        result = await awaitable
    finally:
        done = True
        await task
    return result, ticks


async def test_config_reader_slow_file_refused_while_the_loop_runs_on(risk_file):
    reader = RiskConfigReader(risk_file, timeout=0.2)
    _write(risk_file, SLOW)

    outcome, ticks = await _ticks_while(reader.read_async())

    assert outcome.config is None and outcome.error is not None
    # whichever gives up first: the waiting caller, or the parser at the same deadline
    assert re.fullmatch(rf"{re.escape(str(risk_file))}: ({TIMED_OUT}|{TOO_SLOW})", str(outcome.error))
    assert ticks >= 3  # the loop kept turning while the worker parsed


def test_config_reader_worker_gives_up_at_its_deadline_and_the_next_read_works(risk_file):
    reader = RiskConfigReader(risk_file, timeout=0.2)
    _write(risk_file, SLOW)
    assert reader.read().error is not None
    worker = reader._worker
    assert worker is not None

    refused_while_busy = reader.read(force=True) if worker.is_alive() else None
    worker.join(timeout=30)  # the parser checks the deadline as it goes: it stops soon after

    assert not worker.is_alive()
    if refused_while_busy is not None:
        assert "the previous read has not finished" in str(refused_while_busy.error)
    _write(risk_file, GOOD.replace("2", "3"))
    outcome = reader.read()
    assert outcome.error is None and outcome.config is not None
    assert outcome.config.rules["max_contracts"].limit == 3


def test_config_reader_touched_file_with_same_bytes_is_unchanged(risk_file):
    reader = RiskConfigReader(risk_file)
    _write(risk_file, GOOD)

    assert reader.moved() is True
    assert reader.read().changed is False
    assert reader.read(force=True).config is not None


def test_config_reader_fifo_refused_without_blocking(risk_file):
    risk_file.unlink()
    os.mkfifo(risk_file)  # a reader of a pipe with no writer would wait forever
    reader = RiskConfigReader(risk_file, timeout=5.0)

    outcome = reader.read(force=True)

    assert (
        str(outcome.error) == f"{risk_file}: not a regular file (a pipe, socket or device): not a config file"
    )


async def test_risk_manager_hot_reload_of_an_alias_bomb_refused_fast_and_bounded(
    bus, broker, clock, risk_file
):
    rm = RiskManager(bus, broker, clock, load_risk_config(risk_file), config_path=risk_file)
    rm.start()
    try:
        _write(risk_file, BOMB)

        reloaded = await rm.poll_config()

        assert reloaded is False
        assert rm.config_status.startswith(
            f"risk config reload refused: {risk_file}: anchor &a at line 1: YAML anchors and aliases are not allowed"
        )
        assert rm.engine.rules["max_contracts"].config.limit == 2
        assert rm.statistics().reload_failures == 1
    finally:
        rm.stop()


async def test_risk_manager_hot_reload_of_a_slow_file_costs_a_refused_reload(bus, broker, clock, risk_file):
    rm = RiskManager(
        bus, broker, clock, load_risk_config(risk_file), config_path=risk_file, reload_timeout=0.2
    )
    rm.start()
    try:
        _write(risk_file, SLOW)

        reloaded, ticks = await _ticks_while(rm.sweep_job())

        assert reloaded["details"]["config_reloaded"] is False
        assert re.search(f"{TIMED_OUT}|{TOO_SLOW}", rm.config_status)
        assert ticks >= 3
    finally:
        rm.stop()


def test_config_reader_error_message_is_one_bounded_line(risk_file):
    reader = RiskConfigReader(risk_file)
    _write(risk_file, "rules:\n  symbol_blocks: {symbols: [GME], action: '" + "x" * 100_000 + "'}\n")

    outcome = reader.read()

    assert outcome.error is not None
    assert "\n" not in str(outcome.error) and len(str(outcome.error)) < 400
