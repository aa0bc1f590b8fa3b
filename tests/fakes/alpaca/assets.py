"""Asset ids of the fake: a stable UUID per symbol, and the way back from an id to its symbol."""

from __future__ import annotations

import threading
from uuid import NAMESPACE_URL, uuid5

__all__ = ["AssetDirectory"]


class AssetDirectory:
    """Every symbol is tradable; its asset id is derived from the symbol, so it is the same in
    every run (alpaca-py accepts a symbol or an asset id in position paths)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._symbols: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"AssetDirectory({len(self._symbols)} assets)"

    def id_for(self, symbol: str) -> str:
        asset_id = str(uuid5(NAMESPACE_URL, f"fake-alpaca/{symbol.upper()}"))
        with self._lock:
            self._symbols[asset_id] = symbol.upper()
        return asset_id

    def symbol_for(self, symbol_or_asset_id: str) -> str:
        with self._lock:
            return self._symbols.get(symbol_or_asset_id, symbol_or_asset_id.upper())
