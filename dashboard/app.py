"""The dashboard's entry point: ``streamlit run dashboard/app.py``.

Settings come from the environment the launcher sets (``DESK_STATE_DIR``,
``DASHBOARD_REFRESH_SECONDS``); the sidebar slider changes the refresh for this session.
"""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:  # `streamlit run dashboard/app.py` puts only dashboard/ on the path
    sys.path.insert(0, _ROOT)

import streamlit as st  # noqa: E402  (after the path fix above)
from streamlit_autorefresh import st_autorefresh  # noqa: E402

from dashboard.settings import DashboardSettings  # noqa: E402
from trading.errors import ConfigError  # noqa: E402

REFRESH_KEY = "desk_autorefresh"
PAGES = Path(__file__).resolve().parent / "pages"

st.set_page_config(page_title="Trading desk", page_icon=":material/monitoring:", layout="wide")

try:
    settings = DashboardSettings.from_env()
except ConfigError as exc:
    st.error(f"Dashboard misconfigured: {exc}")
    st.stop()

with st.sidebar:
    st.markdown("### Trading desk")
    refresh = st.slider(
        "refresh every (s)",
        min_value=1,
        max_value=max(120, settings.refresh_seconds),
        value=settings.refresh_seconds,
        key="refresh_seconds",
    )
    refreshes = st_autorefresh(interval=refresh * 1000, key=REFRESH_KEY)
    st.caption(f"state: {settings.state_dir} · refresh #{refreshes}")

page = st.navigation(
    [
        st.Page(PAGES / "overview.py", title="Overview", icon=":material/monitoring:", default=True),
        st.Page(PAGES / "risk.py", title="Risk", icon=":material/shield:"),
        st.Page(PAGES / "executor.py", title="Executor", icon=":material/memory:"),
        st.Page(PAGES / "jobs.py", title="Jobs", icon=":material/work_history:"),
        st.Page(PAGES / "activity.py", title="Activity log", icon=":material/list_alt:"),
        st.Page(PAGES / "controls.py", title="Controls", icon=":material/tune:"),
    ]
)
page.run()
