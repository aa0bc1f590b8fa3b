"""The Streamlit dashboard: ``data`` (read-only loaders), ``charts`` (pure figures), ``pages`` (layout).

Start it with ``python scripts/run_live_dashboard.py`` (or ``streamlit run dashboard/app.py``
with ``DESK_STATE_DIR`` set).
"""

from dashboard.data import (
    COMMAND_KINDS,
    DeskHealth,
    DeskReader,
    DeskStatus,
    Heartbeat,
    ReaderStatistics,
    validate_command,
)
from dashboard.settings import DashboardSettings

__all__ = [
    "COMMAND_KINDS",
    "DashboardSettings",
    "DeskHealth",
    "DeskReader",
    "DeskStatus",
    "Heartbeat",
    "ReaderStatistics",
    "validate_command",
]
