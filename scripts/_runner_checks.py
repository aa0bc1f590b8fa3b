"""Pre-flight checks for the dashboard launcher: port, dependencies, files, configs, state,
who may connect (a login for any address but loopback) and TLS.

Each check raises ``ConfigError`` with one line that names what is wrong, where, and
what is allowed; nothing here starts a process.
"""

from __future__ import annotations

import errno
import importlib.util
import ipaddress
import os
import socket
import ssl
import stat
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from trading.errors import ConfigError
from trading.state_dir import Heartbeat, StateDir
from trading.users import load_users

__all__ = [
    "PORT_RANGE",
    "REQUIRED_MODULES",
    "check_app_file",
    "check_dependencies",
    "check_desk_files",
    "check_exposure",
    "check_no_live_desk",
    "check_port",
    "check_port_range",
    "check_tls",
    "check_users",
    "is_loopback",
]

PORT_RANGE = (1024, 65535)

# import name -> the package name pip knows it by
REQUIRED_MODULES: dict[str, str] = {
    "streamlit": "streamlit",
    "streamlit_autorefresh": "streamlit-autorefresh",
    "plotly": "plotly",
    "pandas": "pandas",
    "numpy": "numpy",
    "pydantic": "pydantic",
    "yaml": "PyYAML",
    "filelock": "filelock",
    "psutil": "psutil",
    "sqlalchemy": "SQLAlchemy",
    "zstandard": "zstandard",
    "streamlit_authenticator": "streamlit-authenticator",
    "bcrypt": "bcrypt",
}


def check_port_range(port: int) -> None:
    """The port is an int in ``PORT_RANGE`` (cheap: checked before anything slower)."""
    lo, hi = PORT_RANGE
    if not isinstance(port, int) or isinstance(port, bool) or not lo <= port <= hi:
        raise ConfigError(
            f"invalid port {port!r}: allowed {lo}-{hi}", field="port", value=port, allowed=f"{lo}-{hi}"
        )


def check_port(host: str, port: int) -> None:
    """The port is in range and nothing listens on it."""
    check_port_range(port)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR as servers set it: only a listening socket makes the port busy, not TIME_WAIT.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ConfigError(
                    f"port {port} on {host} is already in use: choose another with -p",
                    field="port",
                    value=port,
                    allowed="a free port",
                ) from None
            if exc.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT) or isinstance(exc, socket.gaierror):
                raise ConfigError(
                    f"invalid host {host!r}: not an address of this machine ({exc.strerror})",
                    field="host",
                    value=host,
                    allowed="a local address such as 127.0.0.1",
                ) from None
            raise ConfigError(
                f"cannot use port {port} on {host}: {exc.strerror or exc}", field="port", value=port
            ) from None


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a broken or blocked package counts as missing
        return False


def check_dependencies(modules: Mapping[str, str] = REQUIRED_MODULES, *, python: str | None = None) -> None:
    """Every module is importable; otherwise name each missing package and the install command."""
    missing = [package for module, package in modules.items() if not _importable(module)]
    if missing:
        exe = python or sys.executable
        raise ConfigError(
            f"missing dependencies: {', '.join(missing)}; "
            f"install with: {exe} -m pip install {' '.join(missing)}"
            " (or: pip install -r requirements.txt)",
            field="dependencies",
            value=missing,
            allowed="pip install -r requirements.txt",
        )


def check_app_file(path: Path) -> None:
    if not path.is_file():
        raise ConfigError(
            f"dashboard app file not found: {path}",
            path=path,
            field="app",
            value=str(path),
            allowed="an existing Streamlit script (dashboard/app.py)",
        )


def check_desk_files(
    config: Path | None, *, risk_config: Path | None, state_dir: Path | None, lock: bool, books: bool = True
) -> None:
    """What the desk validates at start, through the desk's own code (``trading.desk.preflight.check_desk``):
    the same ``TradingError``, so the same line, as the desk would print. Log lines the
    loaders write meanwhile are held back, and dropped when a check fails. ``books=False`` skips
    the check that the state directory's database and state file belong together."""
    from scripts.run_executor import held_logs
    from trading.desk.preflight import check_desk  # imports the desk: after check_dependencies

    with held_logs():
        check_desk(config, risk_config_path=risk_config, state_dir=state_dir, lock=lock, books=books)


def check_no_live_desk(state_dir: Path, *, stale_after: float) -> None:
    """No desk is alive on ``state_dir`` (fresh heartbeat from a live pid): starting another would fail."""
    beat = Heartbeat.read(StateDir(state_dir).heartbeat)
    if beat is None or time.time() - beat.ts > stale_after:
        return  # no readable or no fresh heartbeat: no live desk to collide with
    pid = beat.pid
    if not _running(pid):
        return
    raise ConfigError(
        f"a desk (pid {pid}) is already running on {state_dir}: use --no-executor to attach to it, "
        "or --state for another directory",
        path=state_dir,
        field="state",
        value=pid,
    )


def _running(pid: int) -> bool:
    """The process exists and is not a zombie (a desk whose launcher died is reparented, and
    stays a zombie until its new parent reaps it)."""
    import psutil  # after check_dependencies

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True  # alive, owned by someone else


def is_loopback(host: str) -> bool:
    """``host`` reaches this machine only: a loopback address, or a name that resolves to loopback
    addresses only (``localhost``). ``0.0.0.0`` and ``::`` (every interface) are not."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except (socket.gaierror, UnicodeError):
        return False
    return bool(infos) and all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos)


def check_exposure(host: str, users_file: Path | None) -> None:
    """Served on any address but loopback, the dashboard requires a login (``--users FILE``):
    its Controls page flattens and unlocks the account."""
    if users_file is None and not is_loopback(host):
        raise ConfigError(
            f"--host {host} is reachable from other machines: set --users FILE to require a login "
            "(create it with: python scripts/desk_users.py --users FILE add NAME --role operator), "
            "or serve on 127.0.0.1",
            field="host",
            value=host,
            allowed="a loopback address, or --users FILE",
        )


def check_users(path: Path) -> None:
    """The users file reads (``trading.users``, no secret in its error), holds at least one user,
    and no other OS user can read it (its cookie key signs every login)."""
    users = load_users(path)  # ConfigError naming the file and field
    if not users.users:
        raise ConfigError(
            f"--users {path}: no user in the file: add one with "
            f"python scripts/desk_users.py --users {path} add NAME --role operator",
            path=path,
            field="users",
        )
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if mode & 0o077:
        raise ConfigError(
            f"--users {path}: other users of this machine can read it (mode {mode:04o}): chmod 600 {path}",
            path=path,
            field="users",
            value=f"{mode:04o}",
            allowed="0600",
        )


def check_tls(cert: Path | None, key: Path | None) -> None:
    """Both or neither of ``--ssl-cert`` and ``--ssl-key``; given, they load as a pair."""
    if cert is None and key is None:
        return
    if cert is None or key is None:
        missing = "--ssl-cert" if cert is None else "--ssl-key"
        raise ConfigError(
            f"TLS needs both --ssl-cert and --ssl-key: {missing} is missing",
            field="ssl",
            allowed="both or neither",
        )
    for flag, path in (("--ssl-cert", cert), ("--ssl-key", key)):
        if not path.is_file():
            raise ConfigError(f"{flag} {path}: file not found", path=path, field=flag.lstrip("-"))
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or exc
        raise ConfigError(
            f"--ssl-cert {cert} and --ssl-key {key} do not load as a certificate and its key: {reason}",
            path=cert,
            field="ssl",
        ) from None
