"""The launcher's access checks: a login for any address but loopback, a private users file
with a user in it, a TLS certificate and key that load as a pair; each refusal exits 2 with
one line, before anything starts."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from scripts._runner_checks import check_exposure, check_tls, check_users, is_loopback
from scripts.run_live_dashboard import DashboardRunner, _parser
from tests.unit.dashboard.conftest import write_users
from trading.errors import ConfigError
from trading.users import UsersFile, load_users, save_users

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = ROOT / "scripts" / "run_live_dashboard.py"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def self_signed(folder: Path, name: str = "localhost") -> tuple[Path, Path]:
    """A self-signed certificate for ``name`` and 127.0.0.1, and its key (openssl)."""
    cert, key = folder / f"{name}.crt", folder / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
         "-addext", f"subjectAltName=DNS:{name},IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def test_runner_non_loopback_without_users_exits_2_with_one_line(tmp_path: Path) -> None:
    state = tmp_path / "state"

    done = subprocess.run(
        [sys.executable, str(LAUNCHER), "-H", "0.0.0.0", "-p", str(_free_port()), "--state", str(state)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "run_live_dashboard.py: error: --host 0.0.0.0 is reachable from other machines: set --users FILE "
        "to require a login (create it with: python scripts/desk_users.py --users FILE add NAME --role "
        "operator), or serve on 127.0.0.1"
    ]
    assert not state.exists()  # refused before anything was made or started


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_runner_loopback_host_needs_no_login(host: str) -> None:
    assert is_loopback(host)
    check_exposure(host, None)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "no-such-host.invalid"])
def test_runner_other_host_needs_a_login(host: str, tmp_path: Path) -> None:
    assert not is_loopback(host)
    with pytest.raises(
        ConfigError, match=rf"--host {host} is reachable from other machines: set --users FILE"
    ):
        check_exposure(host, None)
    check_exposure(host, tmp_path / "users.yaml")  # with a users file it may serve there


def test_runner_users_file_readable_by_others_refused(tmp_path: Path) -> None:
    path = write_users(tmp_path / "users.yaml")
    os.chmod(path, 0o644)

    with pytest.raises(
        ConfigError, match=r"other users of this machine can read it \(mode 0644\): chmod 600"
    ):
        check_users(path)


def test_runner_users_file_without_users_refused(tmp_path: Path) -> None:
    path = save_users(tmp_path / "users.yaml", UsersFile.new())

    with pytest.raises(ConfigError, match=r"no user in the file: add one with python scripts/desk_users.py"):
        check_users(path)


def test_runner_users_file_with_a_plain_password_refused_without_it(tmp_path: Path) -> None:
    path = write_users(tmp_path / "users.yaml")
    hashed = load_users(path).users["alice"].password
    path.write_text(path.read_text().replace(hashed, "plain-Secret-1"))

    with pytest.raises(ConfigError, match=r"alice.password': bad value \(not shown: a secret\)") as err:
        check_users(path)
    assert "plain-Secret-1" not in str(err.value)


def test_runner_tls_needs_both_files_and_a_matching_pair(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    other_cert, _ = self_signed(tmp_path, "other")

    check_tls(cert, key)
    check_tls(None, None)
    with pytest.raises(ConfigError, match="TLS needs both --ssl-cert and --ssl-key: --ssl-key is missing"):
        check_tls(cert, None)
    with pytest.raises(
        ConfigError, match=r"--ssl-cert .*other.crt and --ssl-key .* do not load as a certificate"
    ):
        check_tls(other_cert, key)
    with pytest.raises(ConfigError, match=r"--ssl-key .*nope.key: file not found"):
        check_tls(cert, tmp_path / "nope.key")


def test_runner_users_and_tls_reach_streamlit(tmp_path: Path) -> None:
    users = write_users(tmp_path / "users.yaml")
    cert, key = self_signed(tmp_path)

    runner = DashboardRunner(host="0.0.0.0", users_file=users, ssl_cert=cert, ssl_key=key, state_dir=tmp_path)
    env = runner._child_env()
    argv = runner._build_children()["streamlit"].child.argv

    assert runner.url.startswith("https://0.0.0.0:")
    assert env["DASHBOARD_USERS_FILE"] == str(users.resolve())
    flags = dict(zip(argv[5::2], argv[6::2], strict=True))
    assert (flags["--server.sslCertFile"], flags["--server.sslKeyFile"]) == (str(cert), str(key))
    assert "DASHBOARD_USERS_FILE" not in DashboardRunner(state_dir=tmp_path)._child_env()


def test_runner_operator_with_users_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--operator names the local operator when there is no login"):
        DashboardRunner(operator="alice", users_file=tmp_path / "users.yaml")


def test_runner_users_and_tls_flags_parsed() -> None:
    args = _parser().parse_args(["--users", "u.yaml", "--ssl-cert", "c.pem", "--ssl-key", "k.pem"])

    assert (args.users, args.ssl_cert, args.ssl_key) == (Path("u.yaml"), Path("c.pem"), Path("k.pem"))
