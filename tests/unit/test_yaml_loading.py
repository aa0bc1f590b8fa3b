from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field

from trading._yaml import MAX_BYTES, load_yaml_model, parse_yaml, read_yaml_mapping
from trading.errors import ConfigError


class _Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    mode: Literal["enforce", "shadow"] = "enforce"
    limit: float = Field(gt=0)


class _Config(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    rules: dict[str, _Rule]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("rules: {a: {mode: loud, limit: 1}}", r"field 'rules.a.mode': bad value 'loud': allowed one of 'enforce' or 'shadow'$"),
        ("rules: {a: {limit: -5}}", r"field 'rules.a.limit': bad value -5: allowed a number > 0\.0$"),
        ("rules: {a: {limit: 1, limt: 2}}", r"unknown key 'rules.a.limt' \(did you mean 'limit'\?\)"),
        ("rules: [", r"line 1, column 9: invalid YAML"),
        ("- 1", r"top level must be a mapping"),
    ],
)
def test_load_yaml_model_bad_file_names_file_field_and_allowed(tmp_path, text, match):
    path = tmp_path / "risk.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=match) as info:
        load_yaml_model(path, _Config)
    assert str(path) in str(info.value)
    assert info.value.path == path


def test_load_yaml_model_missing_file_says_not_found(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_yaml_model(tmp_path / "nope.yaml", _Config)


def test_load_yaml_model_valid_file_returns_frozen_model(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text("rules: {a: {limit: 2.5, mode: shadow}}")
    config = load_yaml_model(path, _Config)
    assert config.rules["a"].limit == 2.5
    with pytest.raises(Exception, match="frozen"):
        config.rules["a"].limit = 3  # type: ignore[misc]


# --- the strict reader: constructs that could silently change what a file says ---------------


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"rules:\n  a: {limit: 1}\n  a: {limit: 9}\n", r"duplicate key 'a' at lines 2 and 3"),
        (b"lolz: [&a [1, 2], *a, *a]\n", r"anchor &a at line 1: YAML anchors and aliases are not allowed"),
        (b"x: 1\ny: *nothing\n", r"line 2|alias"),
        (b"limit: .inf\n", r"line 1: '\.inf' is not a finite number"),
        (b"limit: -.Inf\n", r"'-\.Inf' is not a finite number"),
        (b"limit: .nan\n", r"'\.nan' is not a finite number"),
        (b"\xff\xfelimit: 1\n", r"line 1: not UTF-8 text \(byte 0xff at offset 0\)"),
        (b"a: 1\nb: caf\xe9\n", r"line 2: not UTF-8 text"),
        (b"PK\x03\x04\x00\x00binary", r"not a text file \(it contains NUL bytes\)"),
        (b"a: " + b"[" * 5000, r"nesting deeper than 32 levels"),
        (b"x: !!python/object/apply:os.system [echo hi]\n", r"tag .*python/object/apply:os\.system.* is not allowed"),
        (b"x: !custom 1\n", r"tag '!custom' is not allowed"),
    ],
)
def test_parse_yaml_refused_construct_names_file_and_line(data, match):
    with pytest.raises(ConfigError, match=match) as info:
        parse_yaml(data, "risk.yaml")
    assert str(info.value).startswith("risk.yaml: ")
    assert "\n" not in str(info.value)


def test_parse_yaml_oversized_file_refused_before_parsing():
    with pytest.raises(ConfigError, match=r"too large for a config file \(at most 1,048,576\)"):
        parse_yaml(b"a: 1\n" * (MAX_BYTES // 4), "desk.yaml")


def test_parse_yaml_billion_laughs_refused_fast():
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    with pytest.raises(ConfigError, match="anchors and aliases are not allowed"):
        parse_yaml("\n".join(lines).encode(), "risk.yaml")


def test_parse_yaml_core_schema_scalars_keep_their_text():
    data = b"b: yes\nc: on\nt: 17:00\nd: 2026-13-01\nh: 0x1F\ne: 1e3\nf: true\nn: ~\nu: 1_000\n"

    parsed = parse_yaml(data, "x.yaml")

    assert parsed == {
        "b": "yes",
        "c": "on",
        "t": "17:00",
        "d": "2026-13-01",
        "h": 31,
        "e": 1000.0,
        "f": True,
        "n": None,
        "u": "1_000",
    }


def test_read_yaml_mapping_directory_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="is a directory, not a config file"):
        read_yaml_mapping(tmp_path)


def test_load_yaml_model_unknown_key_named_before_the_missing_one(tmp_path):
    path = tmp_path / "risk.yaml"
    path.write_text("rules: {a: {limt: 4}}\n")

    with pytest.raises(ConfigError, match=r"unknown key 'rules\.a\.limt' \(did you mean 'limit'\?\)"):
        load_yaml_model(path, _Config)


def test_load_yaml_model_long_value_is_shortened(tmp_path):
    path = tmp_path / "risk.yaml"
    path.write_text(f"rules: {{a: {{limit: '{'x' * 5000}'}}}}\n")

    with pytest.raises(ConfigError) as info:
        load_yaml_model(path, _Config)

    assert len(str(info.value)) < 300
