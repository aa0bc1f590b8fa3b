"""The Streamlit dashboard: ``data`` (read-only loaders), ``charts`` (pure figures), ``views`` (layout).

Start it with ``python scripts/run_live_dashboard.py`` (or ``streamlit run dashboard/app.py``
with ``DESK_STATE_DIR`` set). The command protocol it shares with the desk is
``trading.commands``; the state directory's layout and heartbeat are ``trading.state_dir``.
"""

from dashboard.data import DeskHealth, DeskReader, DeskStatus, ReaderStatistics
from dashboard.settings import DashboardSettings

__all__ = [
    "DashboardSettings",
    "DeskHealth",
    "DeskReader",
    "DeskStatus",
    "ReaderStatistics",
]
