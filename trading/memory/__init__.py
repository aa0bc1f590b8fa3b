"""The state store: ``StateManager`` and its value types. Knows nothing of trading."""

from trading.memory._files import backup_paths
from trading.memory._memory import MemoryUsage, SystemMemory, system_memory
from trading.memory._reader import Migration
from trading.memory._types import StateStats, StateVersion
from trading.memory._unpickler import ALLOWED_GLOBALS, restricted_loads
from trading.memory.config import StateConfig
from trading.memory.state_manager import StateManager

__all__ = [
    "ALLOWED_GLOBALS",
    "MemoryUsage",
    "Migration",
    "StateConfig",
    "StateManager",
    "StateStats",
    "StateVersion",
    "SystemMemory",
    "backup_paths",
    "restricted_loads",
    "system_memory",
]
