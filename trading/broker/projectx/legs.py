"""``BracketLegs``: which of the platform's orders are the exits of our bracket entries.

ProjectX takes a bracket as one order with ``stopLossBracket`` / ``takeProfitBracket`` (signed
ticks from the entry's fill price). The platform creates the two exits as orders of their own
once the entry is done, and says nothing that ties them to it: no parent id, no custom tag, no
id in the place answer. So we mark our bracket entries (their ``customTag`` ends in
``BRACKET_MARK``) and recognise the exits by what they are: untagged limit (take profit) and
stop (stop loss) orders of the entry's contract and opposite side, sized to what the entry
filled, created within ``window`` seconds of the entry's last update, one of each. A hand
order cannot pass for one unless it is all of that, within that window.

The memory is shared by the REST reads (the lanes' threads) and the hub (the loop), hence the
lock; an exit seen once keeps its parent for good (its later updates carry no clue).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["BRACKET_MARK", "BracketLegs"]

BRACKET_MARK = "/b"
_LIMIT, _STOP = 1, 4
_KEEP = 10_000


@dataclass(slots=True)
class _Entry:
    contract_id: str
    side: int
    filled: int
    updated: datetime | None
    legs: dict[int, str] = field(default_factory=dict)  # order type -> leg id


class BracketLegs:
    def __init__(self, *, window: float = 5.0) -> None:
        self.window = window
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, _Entry] = OrderedDict()  # entry id -> what it is
        self._parents: OrderedDict[str, str | None] = OrderedDict()  # order id -> parent id (None: not a leg)

    def parent_of(self, data: dict[str, Any]) -> str | None:
        """The entry ``data`` (an order JSON) is an exit of, or None. Orders must come in the
        order the platform made them (an entry before its exits)."""
        order_id = str(data["id"])
        with self._lock:
            if order_id in self._parents:
                return self._parents[order_id]
            tag = data.get("customTag")
            if isinstance(tag, str) and tag.endswith(BRACKET_MARK):
                self._note_entry(order_id, data)
                return None
            if tag or data.get("type") not in (_LIMIT, _STOP):
                return None
            parent = self._match(data)
            if parent is not None:
                self._remember(order_id, parent)
            return parent

    def decided(self, order_id: str) -> bool:
        """Whether ``order_id`` was already classed (a leg of a known entry, or not one)."""
        with self._lock:
            return order_id in self._parents

    def mark_plain(self, order_id: str) -> None:
        """``order_id`` was checked against the entries of its time and is no exit of ours."""
        with self._lock:
            self._parents.setdefault(order_id, None)
            self._trim()

    def _note_entry(self, order_id: str, data: dict[str, Any]) -> None:
        entry = self._entries.get(order_id)
        filled = int(data.get("fillVolume") or 0)
        updated = _moment(data.get("updateTimestamp"))
        if entry is None:
            self._entries[order_id] = _Entry(str(data["contractId"]), int(data["side"]), filled, updated)
            while len(self._entries) > _KEEP:
                self._entries.popitem(last=False)
        else:
            entry.filled, entry.updated = filled, updated

    def _match(self, data: dict[str, Any]) -> str | None:
        created = _moment(data.get("creationTimestamp"))
        for entry_id in reversed(self._entries):
            entry = self._entries[entry_id]
            if (
                entry.contract_id == data.get("contractId")
                and entry.side != data.get("side")
                and entry.filled > 0
                and entry.filled == data.get("size")
                and data["type"] not in entry.legs
                and _near(entry.updated, created, self.window)
            ):
                entry.legs[data["type"]] = str(data["id"])
                return entry_id
        return None

    def _remember(self, order_id: str, parent: str | None) -> None:
        self._parents[order_id] = parent
        self._trim()

    def _trim(self) -> None:
        while len(self._parents) > _KEEP:
            self._parents.popitem(last=False)

    def __repr__(self) -> str:
        legs = sum(1 for p in self._parents.values() if p is not None)
        return f"BracketLegs(entries={len(self._entries)}, legs={legs})"


def _moment(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _near(entry_done: datetime | None, leg_created: datetime | None, window: float) -> bool:
    if entry_done is None or leg_created is None:
        return True
    return -window <= (leg_created - entry_done).total_seconds() <= window
