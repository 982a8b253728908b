"""Rules for what enters rheostat: keys, names, free text, actors, numbers, document fields.

Pure (no I/O); shared by the core, the services and the entry points, so that text is refused
the same way wherever it comes in (HTTP, CLI, files, Unleash import). Every refusal names the
field and what is wrong: a ``ValidationError`` for an argument or a request's field (the
``validate_*`` functions), an ``InvalidDefinition`` with the field's path for a field of a
definition document, such as a backfill job or a migration (``require_*``, ``expand_url``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from rheostat.errors import InvalidDefinition, ValidationError

__all__ = [
    "MAX_ROW_ID",
    "MAX_VERSION",
    "expand_url",
    "find_lone_surrogate",
    "refuse_unknown_fields",
    "require_database_url",
    "require_identifier",
    "require_list",
    "require_mapping",
    "require_number",
    "require_string",
    "require_table_name",
    "require_whole_number",
    "validate_actor",
    "validate_key",
    "validate_lookup",
    "validate_number",
    "validate_text",
]

MAX_VERSION = 2**31 - 1
"""Versions are 32-bit integer columns."""
MAX_ROW_ID = 2**63 - 1
"""Audit event ids are 64-bit integer columns."""

_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")
_ENVIRONMENT_KEY = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")
_MAX_ACTOR = 200
_MAX_REASON = 2000
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
"""Control characters (NUL included): never part of a key, name or one-line label."""
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""The same, less tab, line feed and carriage return, which free text may hold."""
_SURROGATE = re.compile(r"[\ud800-\udfff]")
"""A lone UTF-16 surrogate (JSON's ``"\\ud800"``): not a character, and not encodable as
UTF-8, so every response that held it would fail. Refused wherever text comes in."""
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_$]{0,62}")
_QUALIFIED = re.compile(rf"{_IDENTIFIER.pattern}(?:\.{_IDENTIFIER.pattern})?")
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def find_lone_surrogate(value: Any, path: str) -> str | None:
    """Return the path of the first string in ``value`` (keys included) holding a lone
    surrogate, or ``None``. Walks nested mappings and lists without recursion."""
    pending: list[tuple[Any, str]] = [(value, path)]
    while pending:
        item, where = pending.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return where
        elif isinstance(item, Mapping):
            for key, child in item.items():
                if isinstance(key, str) and _SURROGATE.search(key):
                    return f"{where}.<key {key.encode('utf-8', 'backslashreplace').decode()}>"
                pending.append((child, f"{where}.{key}"))
        elif isinstance(item, list | tuple):
            pending.extend((child, f"{where}[{index}]") for index, child in enumerate(item))
    return None


def validate_key(key: object, kind: str) -> str:
    """Return ``key`` if it is a valid flag/segment key (or environment key for ``environment``).

    Raises:
        ValidationError: naming the kind, the rule and the value.
    """
    pattern, rule = (
        (_ENVIRONMENT_KEY, "lowercase letters, digits, '_', '.', '-'; at most 63 characters")
        if kind == "environment"
        else (_KEY, "letters, digits, '_', '.', ':', '-'; at most 128 characters")
    )
    if not isinstance(key, str) or not pattern.fullmatch(key):
        raise ValidationError(
            f"{kind} key {key!r} is not valid: use {rule}, starting with a letter or digit",
            details={"field": f"{kind}_key", "value": repr(key)},
        )
    return key


def validate_text(value: object, field: str, *, multiline: bool = False) -> None:
    """Refuse a string holding NUL or another control character (PostgreSQL cannot store NUL).

    Args:
        multiline: free text (a reason, a description): tabs and line breaks are allowed.

    Raises:
        ValidationError: naming the field, the character and where it is.
    """
    surrogate = _SURROGATE.search(value) if isinstance(value, str) else None
    if surrogate is not None:
        raise ValidationError(
            f"{field} is not valid Unicode: it holds a lone surrogate"
            f" at position {surrogate.start()}",
            details={"field": field},
        )
    pattern = _CONTROL_IN_TEXT if multiline else _CONTROL
    found = pattern.search(value) if isinstance(value, str) else None
    if found is not None:
        raise ValidationError(
            f"{field} must not contain control characters such as NUL: found"
            f" {found.group()!r} at position {found.start()}",
            details={"field": field},
        )


def validate_lookup(**keys: object) -> None:
    """Refuse keys to look up (``environment=..., flag=...``) that are not text, or hold NUL.

    No stored key holds a control character, and PostgreSQL refuses NUL even in a query, so
    such a key is bad input (422), not a database failure (503).

    Raises:
        ValidationError: naming the field (the keyword).
    """
    for field, value in keys.items():
        if not isinstance(value, str):
            raise ValidationError(f"{field} must be text, got {value!r}", details={"field": field})
        validate_text(value, field)


def validate_actor(actor: object, reason: object) -> None:
    """Refuse an empty or oversized actor, or a reason that is not text.

    Raises:
        ValidationError: naming the field.
    """
    if not isinstance(actor, str) or not actor.strip() or len(actor) > _MAX_ACTOR:
        raise ValidationError(
            f"actor must be a non-empty name of at most {_MAX_ACTOR} characters, got {actor!r}",
            details={"field": "actor"},
        )
    if reason is not None and (not isinstance(reason, str) or len(reason) > _MAX_REASON):
        raise ValidationError(
            f"reason must be text of at most {_MAX_REASON} characters",
            details={"field": "reason"},
        )
    validate_text(actor, "actor")
    validate_text(reason, "reason", multiline=True)


def validate_number(value: object, field: str, *, minimum: int, maximum: int) -> int:
    """Return ``value`` if it is an integer in [minimum, maximum] (what the database can hold).

    Raises:
        ValidationError: naming the field, the range and the value.
    """
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise ValidationError(
            f"{field} must be an integer from {minimum} to {maximum}, got {value!r}",
            details={"field": field, "value": repr(value)},
        )
    return value


# -- fields of definition documents ---------------------------------------------------------
def require_mapping(value: Any, path: str) -> Mapping[str, Any]:
    """Return ``value`` if it is a mapping with string keys.

    Raises:
        InvalidDefinition: at ``path``.
    """
    if not isinstance(value, Mapping):
        got = "nothing" if value is None else type(value).__name__
        raise InvalidDefinition(path, f"must be a mapping, got {got}")
    for key in value:
        if not isinstance(key, str):
            raise InvalidDefinition(path, f"keys must be strings, got {key!r}")
    return value


def require_list(value: Any, path: str) -> list[Any]:
    """Return ``value`` (a list or tuple) as a list.

    Raises:
        InvalidDefinition: at ``path``.
    """
    if not isinstance(value, list | tuple):
        raise InvalidDefinition(path, f"must be a list, got {type(value).__name__}")
    return list(value)


def refuse_unknown_fields(body: Mapping[str, Any], fields: tuple[str, ...], path: str) -> None:
    """Refuse a field not in ``fields``: usually a typo that would be silently ignored.

    Raises:
        InvalidDefinition: at the first unknown field's path, listing ``fields`` in order.
    """
    for key in body:
        if key not in fields:
            where = f"{path}.{key}" if path else key
            raise InvalidDefinition(where, f"unknown field; expected one of {', '.join(fields)}")


def require_string(value: Any, path: str) -> str:
    """Return ``value`` if it is a string that is not blank.

    Raises:
        InvalidDefinition: at ``path``.
    """
    if not isinstance(value, str) or not value.strip():
        got = "nothing" if value is None else repr(value)
        raise InvalidDefinition(path, f"must be a non-empty string, got {got}")
    return value


def require_identifier(value: Any, path: str) -> str:
    """Return ``value`` if it is a plain column name (no quoting needed, at most 63 bytes).

    Raises:
        InvalidDefinition: at ``path``.
    """
    text = require_string(value, path)
    if not _IDENTIFIER.fullmatch(text):
        raise InvalidDefinition(path, f"{text!r} is not a plain column name")
    return text


def require_table_name(value: Any, path: str) -> str:
    """Return ``value`` if it is a table name, or ``schema.table``.

    Raises:
        InvalidDefinition: at ``path``.
    """
    table = require_string(value, path)
    if not _QUALIFIED.fullmatch(table):
        raise InvalidDefinition(path, "a table name, or schema.table")
    return table


def require_number(value: Any, path: str, *, minimum: float, maximum: float) -> float:
    """Return ``value`` as a float if it is a number (not a boolean, not NaN) in range.

    Raises:
        InvalidDefinition: at ``path``.
    """
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise InvalidDefinition(path, f"must be a number, got {value!r}")
    if not minimum <= value <= maximum:
        raise InvalidDefinition(path, f"must be between {minimum:g} and {maximum:g}, got {value!r}")
    return float(value)


def require_whole_number(value: Any, path: str, *, minimum: int, maximum: int) -> int:
    """Return ``value`` if it is an integer (not a boolean) in range.

    Raises:
        InvalidDefinition: at ``path``.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidDefinition(path, f"must be a whole number, got {value!r}")
    if not minimum <= value <= maximum:
        raise InvalidDefinition(path, f"must be between {minimum} and {maximum}, got {value}")
    return value


def expand_url(template: str, environ: Mapping[str, str], path: str) -> str:
    """Put the environment's values in for ``${VAR}``; a variable not set is an error."""

    def value(match: re.Match[str]) -> str:
        variable = match.group(1)
        if variable not in environ:
            raise InvalidDefinition(path, f"environment variable {variable} is not set")
        return environ[variable]

    return _VARIABLE.sub(value, template)


def require_database_url(value: Any, path: str, *, environ: Mapping[str, str]) -> tuple[str, str]:
    """Return a database URL as written (``${VAR}`` kept, what a stored document holds) and
    as expanded from ``environ`` (what connects).

    Raises:
        InvalidDefinition: at ``path``: not a string, a variable not set, or not a URL.
    """
    template = require_string(value, path)
    url = expand_url(template, environ, path)
    if "://" not in url:
        raise InvalidDefinition(path, "a database URL such as postgresql://host/db")
    return template, url
