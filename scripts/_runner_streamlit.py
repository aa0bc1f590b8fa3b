"""The Streamlit settings the launcher runs the dashboard with: one set, given twice.

The same options go on Streamlit's command line (``--server.port 8501``, which wins over any
file) and into ``<state>/run/.streamlit/config.toml`` (Streamlit's working directory), so
``streamlit config show`` run there and the running server agree. Besides where to serve,
they harden the server for a desk that may be reached over the network:

- ``server.enableXsrfProtection`` and ``server.enableCORS`` on: a page of another site cannot
  drive the dashboard's websocket (Streamlit needs both on for XSRF protection);
- ``server.fileWatcherType = "none"`` and ``server.runOnSave = false``: no file watching, no
  reruns when a file changes (production mode; also no inotify load);
- ``global.developmentMode = false``, ``server.enableStaticServing = false``;
- ``client.toolbarMode = "minimal"``: no developer menu (rerun, clear cache, deploy) for anyone;
- ``client.showErrorDetails = "type"``: a failing page shows the error's type, not a stack
  trace with the machine's paths (``--debug``: the full trace);
- ``browser.gatherUsageStats = false``: no telemetry (and no call to the internet);
- TLS: ``server.sslCertFile`` / ``server.sslKeyFile`` when the launcher has ``--ssl-cert`` and
  ``--ssl-key``.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["HARDENING", "streamlit_argv", "streamlit_options", "write_streamlit_config"]

OptionValue = str | int | bool

# Options that do not depend on the run: what the tests check the running server has.
HARDENING: dict[str, OptionValue] = {
    "server.headless": True,
    "server.enableXsrfProtection": True,
    "server.enableCORS": True,
    "server.fileWatcherType": "none",
    "server.runOnSave": False,
    "server.enableStaticServing": False,
    "global.developmentMode": False,
    "client.toolbarMode": "minimal",
    "browser.gatherUsageStats": False,
}


def streamlit_options(
    *,
    host: str,
    port: int,
    debug: bool,
    ssl_cert: Path | None = None,
    ssl_key: Path | None = None,
) -> dict[str, OptionValue]:
    """Every option the launcher sets, by Streamlit's dotted name."""
    options: dict[str, OptionValue] = {
        "server.address": host,
        "server.port": port,
        **HARDENING,
        "client.showErrorDetails": "full" if debug else "type",
        "browser.serverAddress": host,
        "browser.serverPort": port,
        "logger.level": "debug" if debug else "info",
    }
    if ssl_cert is not None and ssl_key is not None:
        options["server.sslCertFile"] = str(ssl_cert)
        options["server.sslKeyFile"] = str(ssl_key)
    return options


def _flag_value(value: OptionValue) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def streamlit_argv(options: dict[str, OptionValue]) -> list[str]:
    """``["--server.port", "8501", ...]``: the options as Streamlit's command-line flags."""
    argv: list[str] = []
    for name, value in options.items():
        argv += [f"--{name}", _flag_value(value)]
    return argv


def _toml_value(value: OptionValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_streamlit_config(run_dir: Path, options: dict[str, OptionValue]) -> Path:
    """``options`` as ``.streamlit/config.toml`` in ``run_dir`` (Streamlit's working directory)."""
    sections: dict[str, list[str]] = {}
    for name, value in options.items():
        section, key = name.split(".", 1)
        sections.setdefault(section, []).append(f"{key} = {_toml_value(value)}")
    lines = ["# Written by scripts/run_live_dashboard.py for this run; rewritten on every start."]
    for section, entries in sections.items():
        lines += ["", f"[{section}]", *entries]
    path = run_dir / ".streamlit" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
