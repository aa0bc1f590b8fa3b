"""Who is at the dashboard: the one place the operator's name comes from.

Every command the dashboard writes is recorded with ``current_operator(settings).name`` as
``requested_by``. Today the name is the launcher's ``--operator NAME`` (passed to Streamlit
as ``DASHBOARD_OPERATOR``), else the OS user the dashboard runs as. A login (issue 17) will
answer here from the session, with its roles; the pages do not change.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass

from dashboard.settings import DashboardSettings

__all__ = ["Operator", "current_operator"]


@dataclass(frozen=True, slots=True)
class Operator:
    name: str
    source: str  # where the name came from, in words: "launcher --operator" or "OS user"


def current_operator(settings: DashboardSettings) -> Operator:
    """The launcher's ``--operator``, else the OS user (``"unknown"`` when the OS has no name)."""
    if settings.operator:
        return Operator(settings.operator, "launcher --operator")
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # a uid without a passwd entry (some containers) and no LOGNAME
        user = "unknown"
    return Operator(user, "OS user")
