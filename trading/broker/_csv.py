"""Reading market data CSV files: ticks or OHLCV bars, every row checked, errors with line numbers."""

from __future__ import annotations

import csv
import math
from collections.abc import Generator
from datetime import UTC, datetime
from pathlib import Path

from trading.errors import FeedDataError
from trading.model import MarketDataUpdated

__all__ = ["BAR_COLUMNS", "TICK_COLUMNS", "read_csv_ticks"]

TICK_COLUMNS = ("timestamp", "symbol", "price")
BAR_COLUMNS = ("timestamp", "symbol", "open", "high", "low", "close", "volume")


def read_csv_ticks(path: Path) -> Generator[MarketDataUpdated, None, None]:
    """Yield one event per row; ``FeedDataError`` names the file and line of a bad row.

    Timestamps are ISO 8601 (a time without a zone is taken as UTC) or POSIX seconds, and
    must not go backwards. Bars become events with ``price`` = close and the bar's range.
    """
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise FeedDataError(f"cannot open: {exc.strerror or exc}", path=path) from None
    with handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise FeedDataError(
                f"empty file; expected a header {','.join(TICK_COLUMNS)} or {','.join(BAR_COLUMNS)}",
                path=path,
                line=1,
            )
        names = [h.strip().lower() for h in header]
        if set(names) in (set(TICK_COLUMNS), {*TICK_COLUMNS, "volume"}):
            bars = False
        elif set(names) == set(BAR_COLUMNS) and len(names) == len(BAR_COLUMNS):
            bars = True
        else:
            raise FeedDataError(
                f"header {header} must have the columns {','.join(TICK_COLUMNS)}[,volume] "
                f"or {','.join(BAR_COLUMNS)}",
                path=path,
                line=1,
            )
        col = {name: i for i, name in enumerate(names)}
        previous: datetime | None = None
        for row in reader:
            line = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) != len(names):
                raise FeedDataError(
                    f"expected {len(names)} fields ({','.join(names)}), got {len(row)}: {row}",
                    path=path,
                    line=line,
                )
            ts = _timestamp(row[col["timestamp"]], path, line)
            if previous is not None and ts < previous:
                raise FeedDataError(
                    f"timestamp {ts.isoformat()} goes back before {previous.isoformat()}",
                    path=path,
                    line=line,
                )
            previous = ts
            symbol = row[col["symbol"]].strip()
            if not symbol:
                raise FeedDataError("symbol is empty", path=path, line=line)
            yield _bar(row, col, ts, symbol, path, line) if bars else _tick(row, col, ts, symbol, path, line)


def _tick(
    row: list[str], col: dict[str, int], ts: datetime, symbol: str, path: Path, line: int
) -> MarketDataUpdated:
    price = _number(row, col, "price", path, line)
    volume = _number(row, col, "volume", path, line, allow_zero=True) if "volume" in col else 0.0
    return MarketDataUpdated(ts=ts, symbol=symbol, price=price, volume=volume)


def _bar(
    row: list[str], col: dict[str, int], ts: datetime, symbol: str, path: Path, line: int
) -> MarketDataUpdated:
    o, h, low, c = (_number(row, col, name, path, line) for name in ("open", "high", "low", "close"))
    volume = _number(row, col, "volume", path, line, allow_zero=True)
    if not (low <= min(o, c) and max(o, c) <= h):
        raise FeedDataError(
            f"bar is inconsistent: need low <= open, close <= high, got o={o} h={h} l={low} c={c}",
            path=path,
            line=line,
        )
    return MarketDataUpdated(ts=ts, symbol=symbol, price=c, open=o, high=h, low=low, volume=volume)


def _number(
    row: list[str], col: dict[str, int], name: str, path: Path, line: int, *, allow_zero: bool = False
) -> float:
    text = row[col[name]].strip()
    try:
        value = float(text)
    except ValueError:
        raise FeedDataError(f"{name} {text!r} is not a number", path=path, line=line) from None
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        allowed = ">= 0" if allow_zero else "> 0"
        raise FeedDataError(f"{name} {text!r} must be a finite number {allowed}", path=path, line=line)
    return value


def _timestamp(text: str, path: Path, line: int) -> datetime:
    text = text.strip()
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except ValueError:
        pass  # not POSIX seconds: try ISO 8601 below
    except (OverflowError, OSError):
        raise FeedDataError(f"timestamp {text!r} is out of range", path=path, line=line) from None
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        raise FeedDataError(
            f"timestamp {text!r} is neither ISO 8601 nor POSIX seconds", path=path, line=line
        ) from None
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)
