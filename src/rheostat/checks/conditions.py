"""The condition a ``sql`` check's result must meet: ``">= 1"``, ``"== 0"``, ``"!= 'open'"``,
or a bare value meaning equality. Read into ``{"op": ..., "value": ...}``, judged purely."""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

from rheostat.checks._fields import require_mapping
from rheostat.errors import InvalidDefinition

__all__ = ["describe", "meets", "read_condition"]

_OPERATORS: Mapping[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
}
_WRITTEN = re.compile(r"\s*(==|!=|<=|>=|<|>)\s*(.+?)\s*")
_RULE = "a condition such as '>= 1', '== 0', \"!= 'open'\", or a value it must equal"


def read_condition(value: Any, path: str) -> dict[str, Any]:
    """Return ``{"op", "value"}`` for a written condition, a mapping, or a bare value."""
    if isinstance(value, Mapping):
        body = require_mapping(value, path)
        if set(body) != {"op", "value"} or body["op"] not in _OPERATORS:
            raise InvalidDefinition(path, f"must be {_RULE}, got {value!r}")
        return {"op": body["op"], "value": _scalar(body["value"], f"{path}.value")}
    if isinstance(value, str) and (found := _WRITTEN.fullmatch(value)):
        return {"op": found[1], "value": _literal(found[2], path)}
    return {"op": "==", "value": _scalar(value, path)}


def meets(condition: Mapping[str, Any], actual: Any) -> bool:
    """Whether ``actual`` meets the condition; values that cannot be compared do not."""
    compare = _OPERATORS[condition["op"]]
    expected = condition["value"]
    if _is_number(expected) and isinstance(actual, str):
        actual = _number_or_text(actual)
    try:
        return bool(compare(actual, expected))
    except TypeError:
        return False


def describe(condition: Mapping[str, Any]) -> str:
    """The condition as written: ``>= 1``."""
    return f"{condition['op']} {json.dumps(condition['value'])}"


def _literal(text: str, path: str) -> Any:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    try:
        value = json.loads(text)
    except ValueError:
        raise InvalidDefinition(path, f"must be {_RULE}, got {text!r}") from None
    return _scalar(value, path)


def _scalar(value: Any, path: str) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise InvalidDefinition(path, f"must be {_RULE}, got {value!r}")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number_or_text(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return text
