"""The dashboard depends on the desk only through its contracts, never on broker, risk or desk code."""

from __future__ import annotations

import ast
import json
import subprocess
import sys

from .conftest import ROOT

FORBIDDEN = ("trading.broker", "trading.risk", "trading.desk", "trading.trade_manager", "trading.trades")


def _imported_modules() -> set[str]:
    """Every module a file of ``dashboard/`` imports by name (pages run ``st`` calls at import)."""
    found: set[str] = set()
    for path in (ROOT / "dashboard").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
    return {name for name in found if name.split(".")[0] in ("dashboard", "trading")}


def test_dashboard_imports_no_broker_risk_or_desk_module() -> None:
    modules = sorted(_imported_modules())
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))"
    )

    loaded = json.loads(
        subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, timeout=120
        ).stdout
    )

    assert {"trading.commands", "trading.state_dir", "trading.snapshot"} <= set(loaded)
    assert [m for m in loaded if m.startswith(FORBIDDEN)] == []
