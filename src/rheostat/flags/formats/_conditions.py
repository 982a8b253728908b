"""Parsing of one condition, shared by rules and segments."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from rheostat.errors import InvalidDefinition
from rheostat.flags.formats._fields import check_fields, optional_bool, require_mapping, require_str
from rheostat.flags.model import Condition, Operator, Segment
from rheostat.flags.operators import MATCHERS_BY_OPERATOR

__all__ = ["parse_condition"]

_FIELDS = {"attribute", "op", "values", "value", "negate", "case_insensitive"}


def parse_condition(raw: Any, segments: Mapping[str, Segment] | None, path: str) -> Condition:
    """Validate one condition; ``segments`` is None where segments may not be referenced."""
    body = require_mapping(raw, path)
    check_fields(body, _FIELDS, path)
    op = _operator(body.get("op"), f"{path}.op")
    condition = Condition(
        attribute=require_str(body.get("attribute"), f"{path}.attribute"),
        op=op,
        values=_values(body, op, path),
        negate=optional_bool(body, "negate", path, default=False),
        case_insensitive=optional_bool(body, "case_insensitive", path, default=False),
    )
    _check_values(condition, segments, path)
    return condition


def _operator(raw: Any, path: str) -> Operator:
    try:
        return Operator(raw)
    except ValueError:
        known = ", ".join(op.value for op in Operator)
        raise InvalidDefinition(path, f"unknown operator {raw!r} (one of {known})") from None


def _values(body: Mapping[str, Any], op: Operator, path: str) -> tuple[Any, ...]:
    if "value" in body and "values" in body:
        raise InvalidDefinition(f"{path}.value", "give either value or values, not both")
    if "value" in body:
        return (_plain(body["value"], f"{path}.value"),)
    raw = body.get("values", [])
    if not isinstance(raw, list | tuple):
        raise InvalidDefinition(f"{path}.values", f"must be a list, got {type(raw).__name__}")
    if not raw and op is not Operator.EXISTS:
        raise InvalidDefinition(f"{path}.values", f"operator {op.value} needs values")
    return tuple(_plain(value, f"{path}.values[{index}]") for index, value in enumerate(raw))


def _plain(value: Any, path: str) -> Any:
    """Keep values JSON-shaped: YAML dates become ISO-8601 text; other objects are refused."""
    if isinstance(value, date):  # datetime too: unquoted YAML timestamps load as these
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise InvalidDefinition(path, f"must be a string, number or boolean, got {value!r}")


def _check_values(condition: Condition, segments: Mapping[str, Segment] | None, path: str) -> None:
    if condition.op is Operator.EXISTS:
        return
    if condition.op is Operator.IN_SEGMENT:
        _check_segments(condition, segments, path)
        return
    try:
        MATCHERS_BY_OPERATOR[condition.op](condition.values, condition.case_insensitive)
    except (ValueError, OverflowError) as error:
        raise InvalidDefinition(f"{path}.values", str(error)) from None


def _check_segments(
    condition: Condition, segments: Mapping[str, Segment] | None, path: str
) -> None:
    if segments is None:
        raise InvalidDefinition(f"{path}.op", "segments cannot contain segments")
    for index, name in enumerate(condition.values):
        if name not in segments:
            known = ", ".join(sorted(segments)) or "none defined"
            raise InvalidDefinition(
                f"{path}.values[{index}]", f"unknown segment {name!r} (segments: {known})"
            )
