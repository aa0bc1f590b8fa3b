"""_runner_streamlit.py: one set of Streamlit options, as command-line flags and as config.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path

from scripts._runner_streamlit import HARDENING, streamlit_argv, streamlit_options, write_streamlit_config


def test_write_streamlit_config_headless_no_telemetry(tmp_path: Path) -> None:
    path = write_streamlit_config(tmp_path, streamlit_options(host="127.0.0.1", port=8123, debug=False))

    text = path.read_text()
    assert path == tmp_path / ".streamlit" / "config.toml"
    for line in ("headless = true", "gatherUsageStats = false", 'address = "127.0.0.1"', "port = 8123"):
        assert line in text


def test_streamlit_config_file_and_flags_hold_the_same_options(tmp_path: Path) -> None:
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    options = streamlit_options(host="0.0.0.0", port=8443, debug=False, ssl_cert=cert, ssl_key=key)

    parsed = tomllib.loads(write_streamlit_config(tmp_path, options).read_text())
    argv = streamlit_argv(options)

    from_file = {
        f"{section}.{key}": value for section, values in parsed.items() for key, value in values.items()
    }
    assert from_file == options
    assert dict(zip(argv[::2], argv[1::2], strict=True)) == {
        f"--{name}": str(value).lower() if isinstance(value, bool) else str(value)
        for name, value in options.items()
    }
    assert (options["server.sslCertFile"], options["server.sslKeyFile"]) == (str(cert), str(key))


def test_streamlit_options_harden_the_server() -> None:
    options = streamlit_options(host="127.0.0.1", port=8501, debug=False)

    assert {name: options[name] for name in HARDENING} == HARDENING
    assert (options["server.enableXsrfProtection"], options["server.enableCORS"]) == (True, True)
    assert (options["server.fileWatcherType"], options["server.runOnSave"]) == ("none", False)
    assert options["client.toolbarMode"] == "minimal"
    assert options["client.showErrorDetails"] == "type"
    assert streamlit_options(host="127.0.0.1", port=8501, debug=True)["client.showErrorDetails"] == "full"
    assert "server.sslCertFile" not in options
