"""Reading raw Unleash JSON: typed accessors whose errors name the path of the bad field.

Unleash documents use ``null`` freely for "not set"; every accessor here treats ``None`` as
missing. ``Diagnostics`` gathers the constructs Unleash itself evaluates as "never matches"
(an unknown operator, an invalid regex...), so they are recorded instead of passing silently.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rheostat.errors import InvalidDefinition

__all__ = [
    "Diagnostics",
    "feature_path",
    "optional_bool",
    "optional_list",
    "optional_string",
    "require_int",
    "require_list",
    "require_mapping",
    "require_string",
    "string_items",
]


class Diagnostics:
    """Warnings gathered while compiling one document (path and reason of each)."""

    __slots__ = ("_warnings",)

    def __init__(self) -> None:
        self._warnings: list[dict[str, str]] = []

    def warn(self, path: str, reason: str) -> None:
        """Record that ``path`` compiles to something that never matches, and why."""
        self._warnings.append({"path": path, "reason": reason})

    @property
    def warnings(self) -> list[dict[str, str]]:
        """The warnings, in the order they were found."""
        return list(self._warnings)


def feature_path(name: str) -> str:
    """Return the path naming one feature, e.g. ``features["Feature.A"]``."""
    return f"features[{json.dumps(name, ensure_ascii=False)}]"


def require_mapping(value: Any, path: str) -> Mapping[str, Any]:
    """Return ``value`` if it is a JSON object, else raise naming ``path``."""
    if not isinstance(value, Mapping):
        raise InvalidDefinition(path, f"expected an object, got {_kind(value)}")
    return value


def require_list(value: Any, path: str) -> list[Any]:
    """Return ``value`` as a list if it is a JSON array, else raise naming ``path``."""
    if not isinstance(value, list | tuple):
        raise InvalidDefinition(path, f"expected a list, got {_kind(value)}")
    return list(value)


def optional_list(raw: Mapping[str, Any], key: str, path: str) -> list[Any]:
    """Return the list at ``raw[key]``; missing or null is an empty list."""
    value = raw.get(key)
    return [] if value is None else require_list(value, _join(path, key))


def require_string(raw: Mapping[str, Any], key: str, path: str) -> str:
    """Return the string at ``raw[key]``; missing or not a string raises."""
    value = raw.get(key)
    if not isinstance(value, str):
        raise InvalidDefinition(_join(path, key), f"expected a string, got {_kind(value)}")
    return value


def optional_string(raw: Mapping[str, Any], key: str, path: str) -> str | None:
    """Return the string at ``raw[key]``, or None when missing or null."""
    return None if raw.get(key) is None else require_string(raw, key, path)


def optional_bool(raw: Mapping[str, Any], key: str, path: str, *, default: bool) -> bool:
    """Return the boolean at ``raw[key]``, or ``default`` when missing or null."""
    value = raw.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise InvalidDefinition(_join(path, key), f"expected true or false, got {_kind(value)}")
    return value


def require_int(raw: Mapping[str, Any], key: str, path: str) -> int:
    """Return the integer at ``raw[key]`` (booleans are not integers here)."""
    value = raw.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidDefinition(_join(path, key), f"expected an integer, got {_kind(value)}")
    return value


def string_items(raw: Mapping[str, Any], key: str, path: str) -> tuple[str, ...]:
    """Return the list of strings at ``raw[key]``; missing or null is empty."""
    items = optional_list(raw, key, path)
    for index, item in enumerate(items):
        if not isinstance(item, str):
            raise InvalidDefinition(
                f"{_join(path, key)}[{index}]", f"expected a string, got {_kind(item)}"
            )
    return tuple(items)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"the boolean {json.dumps(value)}"
    if isinstance(value, str):
        return f"the string {json.dumps(value, ensure_ascii=False)[:60]}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    return f"a {type(value).__name__}"
