"""Memory accounting and the eviction policy (oldest entries first)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import psutil

from trading.memory._entries import COMPRESSED, Entry

__all__ = ["MemoryProbe", "MemoryUsage", "SystemMemory", "select_evictions", "system_memory"]


@dataclass(frozen=True, slots=True)
class SystemMemory:
    process_rss_bytes: int
    available_bytes: int


MemoryProbe = Callable[[], SystemMemory]


def system_memory() -> SystemMemory:
    """The default probe: this process's RSS and the system's available memory (psutil)."""
    return SystemMemory(
        process_rss_bytes=psutil.Process(os.getpid()).memory_info().rss,
        available_bytes=psutil.virtual_memory().available,
    )


@dataclass(frozen=True, slots=True)
class MemoryUsage:
    state_bytes: int
    entries: int
    compressed_entries: int
    max_bytes: int
    process_rss_bytes: int
    system_available_bytes: int

    @property
    def state_mb(self) -> float:
        return self.state_bytes / 1e6


def usage(entries: Mapping[str, Entry], *, max_bytes: int, probe: MemoryProbe) -> MemoryUsage:
    system = probe()
    return MemoryUsage(
        state_bytes=sum(e.size for e in entries.values()),
        entries=len(entries),
        compressed_entries=sum(1 for e in entries.values() if e.flags & COMPRESSED),
        max_bytes=max_bytes,
        process_rss_bytes=system.process_rss_bytes,
        system_available_bytes=system.available_bytes,
    )


def select_evictions(entries: Mapping[str, Entry], target_bytes: int) -> list[str]:
    """Keys to remove, oldest write first, until the state fits in ``target_bytes``."""
    total = sum(e.size for e in entries.values())
    chosen: list[str] = []
    for key, entry in sorted(entries.items(), key=lambda kv: kv[1].written_at):
        if total <= target_bytes:
            break
        chosen.append(key)
        total -= entry.size
    return chosen
