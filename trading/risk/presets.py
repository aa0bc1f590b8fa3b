"""Account presets: a risk file that starts from a shipped rule set and overrides it field by field.

A risk file may name a preset at its top level::

    preset: funded_50k_eod           # a name: config/presets/funded_50k_eod.yaml of this checkout
    preset: presets/my_firm.yaml     # a path (.yaml or .yml), relative to the file that names it

The preset's settings are taken first, then the file's own override them:

- a rule named in both: the preset's fields, with the file's fields over them (field by field:
  ``daily_loss: {limit: 500}`` changes the limit and keeps the preset's basis and action); a file's
  rule of another ``kind`` under the preset's rule name is refused (name it differently to add it);
- a rule only in the file: added; a rule only in the preset: kept (``enabled: false`` turns it off);
- a section (``reset``, ``notifier``): merged key by key; any other top-level setting: the file's;
- an empty value in the file (``rules:`` or ``daily_loss:`` with nothing after it) keeps the preset's.

A nested list or mapping inside a rule (``tiers``, ``groups``, ``per_symbol``) is one field: the
file's replaces the preset's whole. A preset cannot itself name a preset (one level, so no chain
and no loop). This module reads and merges the raw mappings only; ``trading.risk.config``
validates the preset alone (its errors name the preset's file) and the merged result (the file's).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from trading._yaml import mapping_of, parse_yaml, read_config_bytes, shorten
from trading.errors import ConfigError

__all__ = ["PRESETS_DIR", "merge_preset", "preset_names", "read_preset"]

PRESETS_DIR = Path(__file__).resolve().parents[2] / "config" / "presets"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_]*$")
_SUFFIXES = (".yaml", ".yml")


def preset_names() -> list[str]:
    """The shipped presets' names (the files of ``PRESETS_DIR``), sorted."""
    if not PRESETS_DIR.is_dir():
        return []
    return sorted(p.stem for p in PRESETS_DIR.iterdir() if p.suffix == ".yaml" and _NAME.match(p.stem))


def _where(source: str) -> Path | None:
    return None if source.startswith("<") else Path(source)


def _refuse(source: str, value: Any, why: str) -> ConfigError:
    names = preset_names()
    allowed = f"one of {', '.join(names)}, or a path to a .yaml file" if names else "a path to a .yaml file"
    return ConfigError(
        f"{source}: field 'preset': bad value {shorten(value)}: {why}allowed {allowed}",
        path=_where(source),
        field="preset",
        value=value,
        allowed=allowed,
    )


def preset_path(value: Any, source: str) -> Path:
    """The file ``value`` names: a shipped preset's name, or a path relative to ``source``'s folder."""
    if isinstance(value, str) and _NAME.match(value):
        if value in preset_names():
            return PRESETS_DIR / f"{value}.yaml"
        raise _refuse(source, value, "no such preset: ")
    if isinstance(value, str) and value.endswith(_SUFFIXES):
        path = Path(value).expanduser()
        base = _where(source)
        if not path.is_absolute() and base is not None:
            path = base.parent / path
        return path
    raise _refuse(source, value, "")


def read_preset(value: Any, source: str, *, deadline: float | None = None) -> tuple[Path, dict[str, Any]]:
    """The preset ``value`` names (its path and its raw top-level mapping); ``ConfigError`` naming
    ``source`` when it cannot be read, naming the preset when it names a preset itself."""
    path = preset_path(value, source)
    try:
        data = read_config_bytes(path)
    except ConfigError as exc:
        raise ConfigError(
            f"{source}: field 'preset': {exc}", path=_where(source), field="preset", value=value
        ) from None
    mapping = mapping_of(parse_yaml(data, path, deadline=deadline), path)
    if "preset" in mapping:
        raise ConfigError(
            f"{path}: field 'preset': a preset cannot start from another preset (named by {source}); "
            "write that preset's rules out in this file",
            path=path,
            field="preset",
            value=mapping["preset"],
            allowed="no preset in a preset",
        )
    return path, mapping


def merge_preset(preset: Mapping[str, Any], own: Mapping[str, Any], source: str) -> dict[str, Any]:
    """``own`` over ``preset`` (see the module docstring); ``own``'s ``preset`` key is dropped."""
    merged = dict(preset)
    for key, value in own.items():
        if key == "preset":
            continue
        base = merged.get(key)
        if value is None and base is not None:
            continue  # an empty section keeps the preset's
        if key == "rules" and isinstance(base, Mapping) and isinstance(value, Mapping):
            merged[key] = _merge_rules(base, value, source)
        elif isinstance(base, Mapping) and isinstance(value, Mapping):
            merged[key] = {**base, **value}
        else:
            merged[key] = value
    return merged


def _merge_rules(base: Mapping[Any, Any], own: Mapping[Any, Any], source: str) -> dict[Any, Any]:
    rules = dict(base)
    for name, body in own.items():
        old = rules.get(name)
        if body is None and old is not None:
            continue  # ``daily_loss:`` with nothing after it: the preset's rule as it is
        if not (isinstance(old, Mapping) and isinstance(body, Mapping)):
            rules[name] = body  # a new rule, or a value the validation will refuse
            continue
        kind = old.get("kind", name)
        new_kind = body.get("kind", kind)
        if new_kind != kind:
            raise ConfigError(
                f"{source}: rule {name!r}, field 'kind': bad value {shorten(new_kind)}: allowed "
                f"{kind!r} (the preset's rule {name!r}); give a rule of another kind its own name",
                path=_where(source),
                field=f"{name}.kind",
                value=new_kind,
                allowed=repr(kind),
            )
        rules[name] = {**old, **body}
    return rules
