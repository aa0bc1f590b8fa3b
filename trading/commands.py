"""The command protocol between the dashboard and the desk: names, arguments, validation.

The dashboard writes a command as a row of the ``commands`` table (kind, JSON arguments, and
its ``Requester``: who, with which role, from which address); the desk claims the row, checks
that the requester is one of its operators, runs it once and records the result. Both sides
call ``parse_command``: the dashboard before it writes the row, the desk again when it
claims it, so a row written around the dashboard with bad arguments fails with the same
message. Each command is a frozen dataclass whose fields are its arguments (type,
required or optional, default); ``ARGUMENTS`` lists them per command for forms and
messages, derived from those fields.

Text arguments are stripped; an empty optional one counts as absent. The row holds only
the arguments that differ from their defaults (``command_args``).
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, get_type_hints

from trading.errors import ConfigError
from trading.users import Role

__all__ = [
    "ARGUMENTS",
    "UNREADABLE_NAME",
    "Argument",
    "ClosePosition",
    "Command",
    "CommandKind",
    "FlattenAll",
    "Pause",
    "ReloadRiskConfig",
    "Requester",
    "Resume",
    "Unlock",
    "command_args",
    "parse_command",
]


class CommandKind(StrEnum):
    FLATTEN_ALL = "flatten_all"
    CLOSE_POSITION = "close_position"
    PAUSE = "pause"
    RESUME = "resume"
    UNLOCK = "unlock"
    RELOAD_RISK_CONFIG = "reload_risk_config"


@dataclass(frozen=True, slots=True, kw_only=True)
class FlattenAll:
    """The kill switch: close every position, cancel open orders, and (unless ``pause`` is
    false) pause new entries until resumed."""

    kind: ClassVar[CommandKind] = CommandKind.FLATTEN_ALL
    reason: str | None = None
    pause: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class ClosePosition:
    kind: ClassVar[CommandKind] = CommandKind.CLOSE_POSITION
    symbol: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Pause:
    """No new entries until resumed (exits and cancels still work)."""

    kind: ClassVar[CommandKind] = CommandKind.PAUSE
    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Resume:
    kind: ClassVar[CommandKind] = CommandKind.RESUME
    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Unlock:
    """End the lockout on ``scope`` ("account" or a symbol); an operator must say why."""

    kind: ClassVar[CommandKind] = CommandKind.UNLOCK
    reason: str
    scope: str = "account"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReloadRiskConfig:
    """Reload the risk config file; an invalid file is refused and the running rules stay."""

    kind: ClassVar[CommandKind] = CommandKind.RELOAD_RISK_CONFIG


Command = FlattenAll | ClosePosition | Pause | Resume | Unlock | ReloadRiskConfig

_TYPES: dict[CommandKind, type[Command]] = {
    CommandKind.FLATTEN_ALL: FlattenAll,
    CommandKind.CLOSE_POSITION: ClosePosition,
    CommandKind.PAUSE: Pause,
    CommandKind.RESUME: Resume,
    CommandKind.UNLOCK: Unlock,
    CommandKind.RELOAD_RISK_CONFIG: ReloadRiskConfig,
}


@dataclass(frozen=True, slots=True)
class Argument:
    """One argument of a command: its name, value type (``str`` or ``bool``), whether it is
    required, and its default when it is not (None: absent)."""

    name: str
    type: type
    required: bool
    default: Any = None

    @property
    def type_name(self) -> str:
        return "true or false" if self.type is bool else "text"

    def describe(self) -> str:
        if self.required:
            return f"{self.name} ({self.type_name}, required)"
        if self.default is None:
            return f"{self.name} ({self.type_name}, optional)"
        shown = str(self.default).lower() if self.type is bool else repr(self.default)
        return f"{self.name} ({self.type_name}, default {shown})"

    def clean(self, kind: CommandKind, value: Any) -> Any:
        """The cleaned value, or ``_ABSENT`` when not given; ``ConfigError`` when of the wrong type."""
        if value is None:
            return _ABSENT
        if self.type is bool:
            if not isinstance(value, bool):
                raise _error(kind, self.name, value, f"argument {self.name!r} must be true or false", self)
            return value
        if not isinstance(value, str):
            raise _error(kind, self.name, value, f"argument {self.name!r} must be text", self)
        return value.strip() or _ABSENT


_ABSENT = object()


def _arguments(cls: type[Command]) -> tuple[Argument, ...]:
    hints = get_type_hints(cls)
    found = []
    for spec in dataclasses.fields(cls):
        hint = hints[spec.name]
        if isinstance(hint, types.UnionType):  # "str | None": optional text
            (hint,) = (t for t in hint.__args__ if t is not type(None))
        required = spec.default is dataclasses.MISSING
        found.append(Argument(spec.name, hint, required, None if required else spec.default))
    return tuple(found)


ARGUMENTS: Mapping[CommandKind, tuple[Argument, ...]] = types.MappingProxyType(
    {kind: _arguments(cls) for kind, cls in _TYPES.items()}
)


def _error(kind: CommandKind, field: str, value: Any, what: str, argument: Argument) -> ConfigError:
    return ConfigError(
        f"command {kind.value!r} {what}, got {value!r}",
        field=field,
        value=value,
        allowed=argument.describe(),
    )


def _kind(kind: str) -> CommandKind:
    try:
        return CommandKind(kind)
    except ValueError:
        allowed = ", ".join(CommandKind)
        raise ConfigError(
            f"unknown command {kind!r}; allowed: {allowed}", field="kind", value=kind, allowed=allowed
        ) from None


def parse_command(kind: str, args: Mapping[str, Any] | None = None) -> Command:
    """The typed, cleaned command for ``kind`` and its ``args`` (None: no arguments).

    Raises ``ConfigError`` naming the command, the argument and what is allowed: an
    unknown command or argument, a value of the wrong type, a required one missing or empty.
    """
    command = _kind(kind)
    if args is None:
        args = {}
    if not isinstance(args, Mapping):
        raise ConfigError(
            f"command {command.value!r} arguments must be a mapping of name to value, got {args!r}",
            field="args",
            value=args,
            allowed="a mapping",
        )
    spec = {argument.name: argument for argument in ARGUMENTS[command]}
    unknown = [name for name in args if name not in spec]
    if unknown:
        first = min(unknown, key=str)
        allowed = ", ".join(argument.describe() for argument in spec.values()) or "none"
        raise ConfigError(
            f"command {command.value!r} takes no argument {first!r}; allowed: {allowed}",
            field=str(first),
            value=args[first],
            allowed=allowed,
        )
    cleaned: dict[str, Any] = {}
    for name, argument in spec.items():
        value = argument.clean(command, args.get(name))
        if value is not _ABSENT:
            cleaned[name] = value
        elif argument.required:
            raise ConfigError(
                f"command {command.value!r} needs a non-empty {name!r}",
                field=name,
                value=args.get(name),
                allowed=argument.describe(),
            )
    return _TYPES[command](**cleaned)


UNREADABLE_NAME = "<unreadable name>"  # no login name or OS user looks like this: it matches no operator


@dataclass(frozen=True, slots=True, kw_only=True)
class Requester:
    """Who sent a command, as the ``commands`` row records it.

    ``name`` is the ``requested_by`` column: the login name, or the local operator's name when
    the dashboard runs without a login (the launcher's ``--operator``, else the OS user).
    ``role`` is the role the dashboard gave them, ``address`` the browser's address where
    Streamlit exposes it (None: not known). The desk decides from its own list of operators,
    never from the role a row claims: the role and the address are for the record."""

    name: str
    role: Role | None = None
    address: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not 1 <= len(self.name) <= 64 or not self.name.isprintable():
            raise ConfigError(
                f"requester name {self.name!r}: 1-64 printable characters",
                field="requested_by",
                value=self.name,
                allowed="1-64 printable characters",
            )
        if self.address is not None and (len(self.address) > 200 or not self.address.isprintable()):
            raise ConfigError(
                f"requester address {self.address[:40]!r}: at most 200 printable characters",
                field="requester_address",
                value=self.address,
            )

    @classmethod
    def of_row(cls, row: Mapping[str, Any]) -> Requester:
        """The requester a ``commands`` row names, read defensively: an unknown role or an
        unusable address reads as None (the row may have been written around the dashboard)."""
        name, role, address = row.get("requested_by"), row.get("requester_role"), row.get("requester_address")
        if not (isinstance(name, str) and 1 <= len(name) <= 64 and name.isprintable()):
            name = UNREADABLE_NAME
        return cls(
            name=name,
            role=Role(role) if role in set(Role) else None,
            address=address
            if isinstance(address, str) and len(address) <= 200 and address.isprintable()
            else None,
        )

    def describe(self) -> str:
        """``alice (operator, from 10.0.0.5)``; the parts that are known."""
        details = [d for d in (self.role and self.role.value, self.address and f"from {self.address}") if d]
        return f"{self.name} ({', '.join(details)})" if details else self.name


def command_args(command: Command) -> dict[str, Any]:
    """The arguments as a ``commands`` row holds them: those that differ from their defaults."""
    return {
        argument.name: getattr(command, argument.name)
        for argument in ARGUMENTS[command.kind]
        if argument.required or getattr(command, argument.name) != argument.default
    }
