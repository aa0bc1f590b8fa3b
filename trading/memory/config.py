"""Settings of the ``StateManager``: frozen, typed, unknown keys rejected."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["StateConfig"]


class StateConfig(BaseModel):
    """How a ``StateManager`` stores its file.

    ``max_memory_mb`` bounds the pickled size of the state: above it the oldest entries are
    removed first. When the system has less than ``low_memory_mb`` available, cleanup goes
    down to ``aggressive_fraction`` of the limit. ``autosave`` (seconds) saves on a mutation
    that comes at least that long after the last save; ``None`` disables it. A save keeps
    the file it replaces as a backup when the last backup is ``backup_interval`` seconds
    old or more (at 1,000 saves a second, a backup per save would only cost I/O).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    compression: Literal["zstd", "gzip", "none"] = "zstd"
    backups: int = Field(default=5, ge=0, le=1000)
    backup_interval: float = Field(default=0.25, ge=0)
    max_memory_mb: float = Field(default=512.0, gt=0)
    low_memory_mb: float = Field(default=256.0, ge=0)
    aggressive_fraction: float = Field(default=0.5, gt=0, le=1)
    autosave: float | None = Field(default=None, gt=0)
    lock_timeout: float = Field(default=10.0, gt=0)
    fsync: bool = True
    version: int = Field(default=1, ge=1)
