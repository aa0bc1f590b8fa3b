from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field

from trading._yaml import load_yaml_model
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
        ("rules: {a: {mode: loud, limit: 1}}", r"field 'rules.a.mode': bad value 'loud' \(allowed: 'enforce' or 'shadow'\)"),
        ("rules: {a: {limit: -5}}", r"field 'rules.a.limit': bad value -5 \(input should be greater than 0\)"),
        ("rules: {a: {limit: 1, limt: 2}}", r"unknown field 'rules.a.limt'"),
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
