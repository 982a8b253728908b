"""Small validators shared by the document parsers; each names the path of what is wrong."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rheostat.errors import InvalidDefinition

__all__ = [
    "check_fields",
    "optional_bool",
    "optional_str",
    "require_list",
    "require_mapping",
    "require_str",
    "string_list",
]


def require_mapping(value: Any, path: str) -> Mapping[str, Any]:
    """Return ``value`` if it is a mapping with string keys."""
    if not isinstance(value, Mapping):
        raise InvalidDefinition(path, f"must be a mapping, got {type(value).__name__}")
    for key in value:
        if not isinstance(key, str):
            raise InvalidDefinition(path, f"keys must be strings, got {key!r}")
    return value


def require_list(value: Any, path: str) -> list[Any]:
    """Return ``value`` if it is a list."""
    if not isinstance(value, list | tuple):
        raise InvalidDefinition(path, f"must be a list, got {type(value).__name__}")
    return list(value)


def require_str(value: Any, path: str) -> str:
    """Return ``value`` if it is a non-empty string."""
    if not isinstance(value, str) or not value:
        raise InvalidDefinition(path, f"must be a non-empty string, got {value!r}")
    return value


def string_list(value: Any, path: str) -> tuple[str, ...]:
    """Return a list of strings as a tuple."""
    items = require_list(value, path)
    for index, item in enumerate(items):
        if not isinstance(item, str):
            raise InvalidDefinition(f"{path}[{index}]", f"must be a string, got {item!r}")
    return tuple(items)


def optional_str(body: Mapping[str, Any], field: str, path: str) -> str:
    """Return the string at ``field``, or '' when absent."""
    value = body.get(field)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidDefinition(f"{path}.{field}", f"must be a string, got {value!r}")
    return value


def optional_bool(body: Mapping[str, Any], field: str, path: str, *, default: bool) -> bool:
    """Return the boolean at ``field``, or ``default`` when absent."""
    value = body.get(field, default)
    if not isinstance(value, bool):
        raise InvalidDefinition(f"{path}.{field}", f"must be true or false, got {value!r}")
    return value


def check_fields(body: Mapping[str, Any], allowed: set[str], path: str) -> None:
    """Refuse unknown fields, which are usually typos that would be silently ignored."""
    unknown = sorted(set(body) - allowed)
    if unknown:
        where = f"{path}.{unknown[0]}" if path else unknown[0]
        raise InvalidDefinition(
            where, f"unknown field (expected one of: {', '.join(sorted(allowed))})"
        )
