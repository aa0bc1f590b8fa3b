"""The dashboard's entry point: ``streamlit run dashboard/app.py``.

Every URL runs this script: the login (``dashboard.login``: with a users file nothing but the
login form is drawn until the visitor logs in; ``st.navigation`` runs before the form, its menu
hidden, so a deep link survives the login), then the sidebar (who is here and their role, the
refresh slider, auto-refresh), and the view ``st.navigation`` picked. The views live in
``dashboard/views/``, a folder Streamlit does not serve on its own (unlike one named
``pages/``), so a bookmark or a reconnecting tab on any page gets the whole app. Settings come
from the environment the launcher sets (``DESK_STATE_DIR``, ``DASHBOARD_REFRESH_SECONDS``,
``DASHBOARD_OPERATOR``, ``DASHBOARD_USERS_FILE``); the sidebar slider changes the refresh for
this session.
"""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:  # `streamlit run dashboard/app.py` puts only dashboard/ on the path
    sys.path.insert(0, _ROOT)

import streamlit as st  # noqa: E402  (after the path fix above)
from streamlit_autorefresh import st_autorefresh  # noqa: E402

from dashboard.login import LoginGate  # noqa: E402
from dashboard.session import REFRESH_SLIDER_KEY  # noqa: E402
from dashboard.settings import DashboardSettings  # noqa: E402
from trading.errors import ConfigError  # noqa: E402

REFRESH_KEY = "desk_autorefresh"
VIEWS = Path(__file__).resolve().parent / "views"
# On a phone: less padding above the page, a smaller page title, so the state, equity, daily
# P&L and headroom fit the first screen.
PHONE_CSS = """<style>
@media (max-width: 640px) {
  .stMainBlockContainer, .block-container { padding-top: 4rem; padding-left: 0.75rem;
    padding-right: 0.75rem; }
  h2 { font-size: 1.3rem !important; padding-top: 0 !important; }
}
</style>"""

st.set_page_config(page_title="Trading desk", page_icon=":material/monitoring:", layout="wide")

try:
    settings = DashboardSettings.from_env()
except ConfigError as exc:
    st.error(f"Dashboard misconfigured: {exc}")
    st.stop()

gate = LoginGate(settings)
identity = gate.restore()
page = st.navigation(
    [
        st.Page(VIEWS / "overview.py", title="Overview", icon=":material/monitoring:", default=True),
        st.Page(VIEWS / "risk.py", title="Risk", icon=":material/shield:"),
        st.Page(VIEWS / "executor.py", title="Executor", icon=":material/memory:"),
        st.Page(VIEWS / "jobs.py", title="Jobs", icon=":material/work_history:"),
        st.Page(VIEWS / "activity.py", title="Activity log", icon=":material/list_alt:", url_path="activity"),
        st.Page(VIEWS / "controls.py", title="Controls", icon=":material/tune:"),
    ],
    position="sidebar" if identity is not None else "hidden",  # no menu before a login
)
identity = gate.require(identity)  # with a users file: the login form, and nothing more, until a login
st.html(PHONE_CSS)
with st.sidebar:
    st.markdown("### Trading desk")
    st.caption(
        f"{identity.role.value} **{identity.display}**",
        help=f"{identity.name}, from the {identity.source}; recorded with every command"
        + ("" if identity.is_operator else "; a viewer sees every page and sends no command"),
    )
    refresh = st.slider(
        "refresh every (s)",
        min_value=1,
        max_value=max(120, settings.refresh_seconds),
        value=settings.refresh_seconds,
        key=REFRESH_SLIDER_KEY,
    )
    refreshes = st_autorefresh(interval=refresh * 1000, key=REFRESH_KEY)
    st.caption(f"state: {settings.state_name} · refresh #{refreshes}")

page.run()
