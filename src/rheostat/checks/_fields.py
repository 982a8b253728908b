"""Readers of suite fields: each returns a JSON value or raises ``InvalidDefinition`` naming the
path (``checks[2].url``) and what was expected."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from rheostat.errors import InvalidDefinition, ValidationError
from rheostat.inputs import validate_text

__all__ = [
    "MAX_TIMEOUT_SECONDS",
    "check_fields",
    "read_bool",
    "read_command",
    "read_duration_seconds",
    "read_mapping",
    "read_number",
    "read_port",
    "read_string_list",
    "read_string_map",
    "read_table_lists",
    "read_target",
    "read_text",
    "require_mapping",
]

MAX_TIMEOUT_SECONDS = 3600.0
"""A check that needs longer than an hour is a job, not a check."""

_DURATION = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_TARGET = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*")
_MAX_TEXT = 10_000


def require_mapping(value: Any, path: str) -> Mapping[str, Any]:
    """Return ``value`` if it is a mapping with string keys."""
    if not isinstance(value, Mapping):
        raise InvalidDefinition(path, f"must be a mapping, got {_kind(value)}")
    for key in value:
        if not isinstance(key, str):
            raise InvalidDefinition(path, f"keys must be strings, got {key!r}")
    return value


def check_fields(body: Mapping[str, Any], allowed: set[str], path: str) -> None:
    """Refuse unknown fields: they are usually typos that would be silently ignored."""
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise InvalidDefinition(
            f"{path}.{unknown[0]}" if path else unknown[0],
            f"unknown field (expected one of: {', '.join(sorted(allowed))})",
        )


def read_text(value: Any, path: str) -> str:
    """A non-empty string without control characters (at most 10,000 characters)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidDefinition(path, f"must be a non-empty string, got {_shown(value)}")
    if len(value) > _MAX_TEXT:
        raise InvalidDefinition(path, f"must be at most {_MAX_TEXT} characters")
    try:
        validate_text(value, path, multiline=True)
    except ValidationError as error:
        raise InvalidDefinition(path, error.message.removeprefix(f"{path} ")) from None
    return value


def read_bool(value: Any, path: str) -> bool:
    """``true`` or ``false``."""
    if not isinstance(value, bool):
        raise InvalidDefinition(path, f"must be true or false, got {_shown(value)}")
    return value


def read_number(value: Any, path: str, *, minimum: float = 0.0, positive: bool = False) -> float:
    """A finite number at least ``minimum`` (above it, with ``positive``); a numeric string
    is read as its number (what ``${VAR}`` gives)."""
    value = _numeric(value)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidDefinition(path, f"must be a number, got {_shown(value)}")
    if value < minimum or (positive and value <= minimum):
        relation = "greater than" if positive else "at least"
        raise InvalidDefinition(path, f"must be {relation} {minimum:g}, got {value!r}")
    return float(value) if isinstance(value, float) else value


def read_port(value: Any, path: str) -> int:
    """A TCP port, 1 to 65535 (``"6379"`` from ``${VAR}`` too)."""
    value = _numeric(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise InvalidDefinition(path, f"must be a port from 1 to 65535, got {_shown(value)}")
    return value


def read_duration_seconds(value: Any, path: str) -> float:
    """Seconds, as a number or ``"500ms"``, ``"30s"``, ``"5m"``, ``"2h"``, ``"1d"``; above 0."""
    if isinstance(value, str) and (found := _DURATION.fullmatch(value.strip())):
        seconds = float(found[1]) * _UNIT_SECONDS[found[2]]
    elif isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        seconds = float(value)
    else:
        raise InvalidDefinition(
            path, f"must be seconds or a duration such as '30s', '5m', '2h', got {_shown(value)}"
        )
    if seconds <= 0:
        raise InvalidDefinition(path, f"must be longer than 0s, got {value!r}")
    return seconds


def read_string_list(value: Any, path: str) -> list[str]:
    """A non-empty list of non-empty strings."""
    if not isinstance(value, list | tuple) or not value:
        raise InvalidDefinition(path, f"must be a non-empty list of strings, got {_shown(value)}")
    return [read_text(item, f"{path}[{index}]") for index, item in enumerate(value)]


def read_string_map(value: Any, path: str) -> dict[str, str]:
    """A mapping of strings to strings (headers, environment variables)."""
    body = require_mapping(value, path)
    return {key: _string(item, f"{path}.{key}") for key, item in body.items()}


def read_mapping(value: Any, path: str) -> dict[str, Any]:
    """Any mapping with string keys (keyword arguments, query parameters)."""
    return dict(require_mapping(value, path))


def read_table_lists(value: Any, path: str) -> dict[str, list[str]]:
    """``{table: [name, ...]}`` (columns or indexes per table)."""
    body = require_mapping(value, path)
    if not body:
        raise InvalidDefinition(path, "must name at least one table")
    return {
        read_text(table, path): read_string_list(names, f"{path}.{table}")
        for table, names in body.items()
    }


def read_command(value: Any, path: str) -> list[str] | str:
    """A command: a string (split like a shell would, but run without one) or an argv list."""
    if isinstance(value, str):
        return read_text(value, path)
    return read_string_list(value, path)


def read_target(value: Any, path: str) -> str:
    """An import path ``package.module:function``."""
    text = read_text(value, path)
    if not _TARGET.fullmatch(text):
        raise InvalidDefinition(path, f"must be 'package.module:function', got {text!r}")
    return text


def _numeric(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            try:
                return float(value.strip())
            except ValueError:
                return value
    return value


def _string(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise InvalidDefinition(path, f"must be a string, got {_shown(value)}")
    return read_text(value, path) if value else value


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."
