"""Field rules of the release plan document: durations, percentages, moments, names.

Each ``parse_*`` returns the model value or raises ``InvalidDefinition`` naming the path; each
``format_*`` returns the canonical document form, which its ``parse_*`` reads back unchanged.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from rheostat.errors import InvalidDefinition, ValidationError
from rheostat.flags.formats._fields import (
    check_fields,
    require_list,
    require_mapping,
    require_str,
)
from rheostat.inputs import validate_key, validate_text

__all__ = [
    "check_fields",
    "format_duration",
    "format_moment",
    "format_percent",
    "parse_bool",
    "parse_choice",
    "parse_count",
    "parse_duration",
    "parse_key",
    "parse_keys",
    "parse_moment",
    "parse_number",
    "parse_percent",
    "parse_text",
    "require_list",
    "require_mapping",
    "require_str",
]

MAX_DURATION = timedelta(days=3650)
"""Longer is a typo (and far beyond what a ``timedelta`` can be added to a moment safely)."""

_SHORT_DURATION = re.compile(
    r"(?:([0-9]{1,9})d)?(?:([0-9]{1,9})h)?(?:([0-9]{1,9})m)?(?:([0-9]{1,9})s)?"
)
_UNIT_SECONDS = (86_400, 3_600, 60, 1)
_UNIT_NAMES = ("d", "h", "m", "s")
_DURATION_RULE = "a duration such as '30s', '5m', '4h', '2d', '1h30m', or whole seconds"
# RFC 3339: a date, 'T', a time, an offset. datetime.fromisoformat alone also takes dates,
# week dates and moments without an offset, which would be read in some unknown zone.
_RFC_3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?"
    r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
)
_MAX_COUNT = 1_000_000_000

_Choice = TypeVar("_Choice", bound=StrEnum)


def parse_duration(value: Any, path: str, *, allow_zero: bool = True) -> timedelta:
    """Read ``"30s"``, ``"5m"``, ``"4h"``, ``"2d"``, ``"1h30m"`` or whole seconds (an int)."""
    if isinstance(value, int) and not isinstance(value, bool):
        seconds = value
    elif isinstance(value, str) and value and (found := _SHORT_DURATION.fullmatch(value)):
        seconds = sum(
            int(part) * unit
            for part, unit in zip(found.groups(), _UNIT_SECONDS, strict=True)
            if part
        )
    else:
        raise InvalidDefinition(path, f"must be {_DURATION_RULE}, got {value!r}")
    if seconds < 0 or seconds > MAX_DURATION.total_seconds():
        raise InvalidDefinition(path, f"must be from 0s to {MAX_DURATION.days}d, got {value!r}")
    if seconds == 0 and not allow_zero:
        raise InvalidDefinition(path, f"must be longer than 0s, got {value!r}")
    return timedelta(seconds=seconds)


def format_duration(duration: timedelta) -> str:
    """The canonical short form (``"1h30m"``; ``"0s"`` for zero).

    Raises:
        ValueError: for a negative duration or one with a fraction of a second, which a plan
            document cannot hold.
    """
    if duration < timedelta(0) or duration.microseconds:
        raise ValueError(f"a plan duration is whole non-negative seconds, got {duration!r}")
    remaining = int(duration.total_seconds())
    parts = []
    for unit, name in zip(_UNIT_SECONDS, _UNIT_NAMES, strict=True):
        count, remaining = divmod(remaining, unit)
        if count:
            parts.append(f"{count}{name}")
    return "".join(parts) or "0s"


def parse_percent(value: Any, path: str) -> float:
    """Read a percentage: a number in [0, 100] with at most three decimals."""
    number = parse_number(value, path)
    if not 0 <= number <= 100:  # a percentage
        raise InvalidDefinition(path, f"must be a percentage from 0 to 100, got {value!r}")
    thousandths = round(number * 1000)
    if abs(thousandths - number * 1000) > 1e-6:  # float noise, not a decimal
        raise InvalidDefinition(path, f"must have at most 3 decimals, got {value!r}")
    return thousandths / 1000


def format_percent(percent: float) -> int | float:
    """A whole percentage as an int (``5``, not ``5.0``), else the float."""
    return int(percent) if float(percent).is_integer() else percent


def parse_number(value: Any, path: str) -> float:
    """Read a finite number; ``true`` and ``"50"`` are not numbers."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidDefinition(path, f"must be a number, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidDefinition(path, f"must be a finite number, got {value!r}")
    try:
        return float(value)
    except OverflowError:
        raise InvalidDefinition(path, f"is too large, got {value!r}") from None


def parse_count(value: Any, path: str, *, minimum: int) -> int:
    """Read an integer from ``minimum`` to a billion."""
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= _MAX_COUNT:
        raise InvalidDefinition(
            path, f"must be an integer from {minimum} to {_MAX_COUNT}, got {value!r}"
        )
    return value


def parse_bool(value: Any, path: str) -> bool:
    """Read ``true`` or ``false`` (not ``"yes"``, not ``1``)."""
    if not isinstance(value, bool):
        raise InvalidDefinition(path, f"must be true or false, got {value!r}")
    return value


def parse_choice(value: Any, path: str, choices: type[_Choice]) -> _Choice:
    """Read one of an enumeration's values."""
    known = ", ".join(choice.value for choice in choices)
    if not isinstance(value, str) or value not in {choice.value for choice in choices}:
        raise InvalidDefinition(path, f"must be one of {known}, got {value!r}")
    return choices(value)


def parse_key(value: Any, path: str, kind: str) -> str:
    """Read a key (letters, digits, ``_.:-``; lowercase for an environment)."""
    try:
        return validate_key(value, kind)
    except ValidationError as error:
        raise InvalidDefinition(path, error.message) from None


def parse_keys(value: Any, path: str, kind: str, *, allow_empty: bool = False) -> tuple[str, ...]:
    """Read a list of distinct keys."""
    items = require_list(value, path)
    if not items and not allow_empty:
        raise InvalidDefinition(path, f"name at least one {kind}")
    keys = tuple(parse_key(item, f"{path}[{index}]", kind) for index, item in enumerate(items))
    for index, key in enumerate(keys):
        if key in keys[:index]:
            raise InvalidDefinition(f"{path}[{index}]", f"{kind} {key!r} is named twice")
    return keys


def parse_text(value: Any, path: str, *, multiline: bool = False) -> str:
    """Read a string without NUL or (unless ``multiline``) other control characters."""
    if not isinstance(value, str):
        raise InvalidDefinition(path, f"must be a string, got {value!r}")
    try:
        validate_text(value, "text", multiline=multiline)
    except ValidationError as error:
        raise InvalidDefinition(path, error.message.removeprefix("text ")) from None
    return value


def parse_moment(value: Any, path: str) -> datetime:
    """Read an RFC 3339 timestamp with its offset (``"2026-12-08T09:00:00Z"``), in UTC.

    YAML reads an unquoted timestamp as a ``datetime``: one with an offset is taken as is.
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and _RFC_3339.fullmatch(value):
        try:
            moment = datetime.fromisoformat(value.upper())
        except ValueError as error:
            raise InvalidDefinition(path, f"not a valid moment: {error}") from None
    else:
        raise InvalidDefinition(
            path, f"must be an RFC 3339 timestamp such as '2026-12-08T09:00:00Z', got {value!r}"
        )
    if moment.utcoffset() is None:
        raise InvalidDefinition(path, f"must name its offset (Z or +01:00), got {value!r}")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise InvalidDefinition(path, f"is out of range, got {value!r}") from None


def format_moment(moment: datetime) -> str:
    """The canonical form: RFC 3339 in UTC with ``Z``."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
