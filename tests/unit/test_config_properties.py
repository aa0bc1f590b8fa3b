"""Property: any mutation of the shipped config files either loads with the values its explicit
equivalent gives, or is refused with one ConfigError line. Never a traceback, never a hang.

Mutations (hypothesis, bounded and derandomized so ``make test`` stays fast and repeatable):
on the parsed data (a key deleted, a value retyped, a non-finite number, a value nested deep)
and on the text (a line duplicated, garbage bytes, an anchor and alias, a cut). Each mutated
file goes through the loader and through the desk's start-up check (``check_desk``, with a
state directory); a sample goes through the real ``scripts/run_executor.py --check``.

"Explicit equivalent": a file that loads must load to the same config as (a) the canonical
YAML rendering of what the strict reader parsed and, for data mutations, (b) the mutated data
validated directly. So no spelling in a file can silently mean something else.
"""

from __future__ import annotations

import copy
import random
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trading._yaml import parse_yaml
from trading.desk.config import DeskConfig, load_desk_config
from trading.desk.preflight import check_desk
from trading.errors import ConfigError, TradingError
from trading.risk import load_risk_config, parse_risk_config
from trading.risk.config import require_enforced_rule

ROOT = Path(__file__).resolve().parents[2]
EXECUTOR = ROOT / "scripts" / "run_executor.py"
TEXT = {
    "desk": (ROOT / "config" / "desk.yaml").read_bytes(),
    "risk": (ROOT / "config" / "risk.yaml").read_bytes(),
}
DATA = {name: parse_yaml(text, name) for name, text in TEXT.items()}
LOADERS = {"desk": load_desk_config, "risk": load_risk_config}

PROPERTY = settings(
    max_examples=60,
    deadline=timedelta(seconds=5),
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Values a hand-edited file might hold where another type belongs.
ODD_VALUES = st.one_of(
    st.booleans(),
    st.none(),
    st.integers(min_value=-(10**6), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(
        ["yes", "no", "on", "off", "1e400", ".inf", "2026-13-01", "17:00", "0x10", "1_000", "~", ""]
    ),
    st.lists(st.integers(min_value=-5, max_value=5), max_size=3),
    st.dictionaries(st.sampled_from(["limit", "limt", "kind", "x"]), st.integers(0, 5), max_size=2),
)


# --- the outcome check ------------------------------------------------------------------------


def _explicit(which: str, data: Any) -> Any:
    """The config the data itself gives, without any YAML text in between."""
    if which == "desk":
        return DeskConfig.model_validate(data)
    return require_enforced_rule(parse_risk_config(data, "<dict>"), "<dict>")


def _check(folder: Path, which: str, data: bytes, mutated: Any = None) -> None:
    """Write ``data`` as the ``which`` file (the other one shipped), load and check it."""
    path = folder / f"{which}.yaml"
    path.write_bytes(data)
    other = "risk" if which == "desk" else "desk"
    (folder / f"{other}.yaml").write_bytes(TEXT[other])
    try:
        loaded = LOADERS[which](path)
    except ConfigError as exc:
        message = str(exc)
        assert "\n" not in message and len(message) < 600, message
        assert message.startswith(f"{path}: "), message
        with pytest.raises(TradingError):  # the start-up check refuses it too
            check_desk(folder / "desk.yaml", state_dir=folder / "state")
        return
    # Loaded: the canonical rendering of what was parsed loads to the same config...
    canonical = folder / f"canonical-{which}.yaml"
    canonical.write_text(yaml.safe_dump(parse_yaml(data, path), allow_unicode=True))
    assert LOADERS[which](canonical) == loaded
    # ...and so does the mutated data itself, validated directly
    if mutated is not None:
        assert _explicit(which, mutated) == loaded
    try:
        check_desk(folder / "desk.yaml", state_dir=folder / "state")
    except TradingError as exc:  # e.g. risk_config retyped to a file that is not there
        assert "\n" not in str(exc) and len(str(exc)) < 600, str(exc)


# --- data mutations ---------------------------------------------------------------------------


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


def _parent(root: Any, path: tuple[Any, ...]) -> Any:
    node = root
    for part in path[:-1]:
        node = node[part]
    return node


@st.composite
def data_mutations(draw: st.DrawFn) -> tuple[str, Any]:
    which = draw(st.sampled_from(["desk", "risk"]))
    data = copy.deepcopy(DATA[which])
    path = draw(st.sampled_from(_paths(data)))
    parent, key = _parent(data, path), path[-1]
    kind = draw(st.sampled_from(["delete", "retype", "nonfinite", "nest"]))
    if kind == "delete":
        del parent[key]
    elif kind == "retype":
        parent[key] = draw(ODD_VALUES)
    elif kind == "nonfinite":
        parent[key] = draw(st.sampled_from([float("inf"), float("-inf"), float("nan")]))
    else:
        value = parent[key]
        for _ in range(draw(st.integers(min_value=1, max_value=40))):
            value = [value]
        parent[key] = value
    return which, data


@PROPERTY
@given(case=data_mutations())
def test_config_data_mutation_loads_as_its_explicit_equivalent_or_is_refused_in_one_line(tmp_path, case):
    which, data = case
    try:
        text = yaml.safe_dump(data, allow_unicode=True).encode()
    except (yaml.YAMLError, UnicodeEncodeError):
        return  # not representable as YAML text (a lone surrogate): nothing to write
    _check(tmp_path, which, text, data)


# --- text mutations ---------------------------------------------------------------------------


def _duplicate_line(text: bytes, rng: random.Random) -> bytes:
    lines = text.splitlines(keepends=True)
    index = rng.randrange(len(lines))
    return b"".join([*lines[: index + 1], lines[index], *lines[index + 1 :]])


def _garbage(text: bytes, rng: random.Random, junk: bytes) -> bytes:
    at = rng.randrange(len(text) + 1)
    return text[:at] + junk + text[at:]


def _alias(text: bytes, rng: random.Random) -> bytes:
    return b"anchored: &a [1, 2]\nreused: *a\n" + text if rng.random() < 0.5 else text + b"\nx: &b 1\ny: *b\n"


def _cut(text: bytes, rng: random.Random) -> bytes:
    return text[: rng.randrange(len(text) + 1)]


def _deep(text: bytes, rng: random.Random) -> bytes:
    depth = rng.choice([5, 31, 33, 200, 5000])
    return text + b"\nnested: " + b"[" * depth + b"1" + b"]" * depth + b"\n"


@PROPERTY
@given(
    which=st.sampled_from(["desk", "risk"]),
    kind=st.sampled_from(["duplicate", "garbage", "alias", "cut", "deep"]),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    junk=st.binary(min_size=1, max_size=8),
)
def test_config_text_mutation_loads_as_its_canonical_form_or_is_refused_in_one_line(
    tmp_path, which, kind, seed, junk
):
    rng = random.Random(seed)
    text = TEXT[which]
    mutated = {
        "duplicate": lambda: _duplicate_line(text, rng),
        "garbage": lambda: _garbage(text, rng, junk),
        "alias": lambda: _alias(text, rng),
        "cut": lambda: _cut(text, rng),
        "deep": lambda: _deep(text, rng),
    }[kind]()

    _check(tmp_path, which, mutated)


# --- a sample through the real script ---------------------------------------------------------

_SAMPLE = {
    "duplicate rule": (
        "risk",
        TEXT["risk"].replace(
            b"rules:\n", b"rules:\n  daily_realized_loss:\n    limit: 9999999\n    action: alert\n", 1
        ),
    ),
    "empty risk file": ("risk", b""),
    "billion laughs": ("risk", b"a: &a [lol, lol]\nb: &b [*a, *a]\nc: [*b, *b]\n" + TEXT["risk"]),
    "starting_balance true": (
        "desk",
        TEXT["desk"].replace(b"starting_balance: 100000", b"starting_balance: true", 1),
    ),
    "not-a-date": ("desk", TEXT["desk"].replace(b"speed: 10 ", b"speed: 10\n  start: not-a-date\n ", 1)),
    "deep nesting": ("desk", TEXT["desk"] + b"\nx: " + b"[" * 5000),
    "non-UTF-8": ("risk", TEXT["risk"].replace(b"America/Chicago", b"Am\xe9rica/Chicago", 1)),
}


def test_config_mutations_through_run_executor_check_exit_2_with_one_line(tmp_path):
    runs = {}
    for name, (which, data) in _SAMPLE.items():
        folder = tmp_path / name.replace(" ", "_")
        folder.mkdir()
        (folder / f"{which}.yaml").write_bytes(data)
        other = "risk" if which == "desk" else "desk"
        (folder / f"{other}.yaml").write_bytes(TEXT[other])
        runs[name] = (
            folder,
            which,
            subprocess.Popen(
                [
                    sys.executable,
                    str(EXECUTOR),
                    "--check",
                    "--config",
                    str(folder / "desk.yaml"),
                    "--state",
                    str(folder / "state"),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            ),
        )
    for name, (folder, which, proc) in runs.items():
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 2, (name, out, err)
        assert out == "" and len(err.splitlines()) == 1, (name, err)
        assert err.startswith(f"run_executor.py: error: {folder / f'{which}.yaml'}: "), (name, err)
        assert "Traceback" not in err
