"""Checks shared by the services: names, text, actors, versions, and writing audit events."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from rheostat.errors import Conflict, ValidationError
from rheostat.store.records import AuditAction, AuditEvent
from rheostat.store.unit_of_work import UnitOfWork

__all__ = [
    "MAX_ROW_ID",
    "MAX_VERSION",
    "check_actor",
    "check_key",
    "check_lookup",
    "check_number",
    "check_text",
    "check_version",
    "record",
    "required_version",
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


def check_key(key: object, kind: str) -> str:
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


def check_text(value: object, field: str, *, multiline: bool = False) -> None:
    """Refuse a string holding NUL or another control character (PostgreSQL cannot store NUL).

    Args:
        multiline: free text (a reason, a description): tabs and line breaks are allowed.

    Raises:
        ValidationError: naming the field, the character and where it is.
    """
    pattern = _CONTROL_IN_TEXT if multiline else _CONTROL
    found = pattern.search(value) if isinstance(value, str) else None
    if found is not None:
        raise ValidationError(
            f"{field} must not contain control characters such as NUL: found"
            f" {found.group()!r} at position {found.start()}",
            details={"field": field},
        )


def check_lookup(**keys: object) -> None:
    """Refuse keys to look up (``environment=..., flag=...``) that are not text, or hold NUL.

    No stored key holds a control character, and PostgreSQL refuses NUL even in a query, so
    such a key is bad input (422), not a database failure (503).

    Raises:
        ValidationError: naming the field (the keyword).
    """
    for field, value in keys.items():
        if not isinstance(value, str):
            raise ValidationError(f"{field} must be text, got {value!r}", details={"field": field})
        check_text(value, field)


def check_actor(actor: object, reason: object) -> None:
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
    check_text(actor, "actor")
    check_text(reason, "reason", multiline=True)


def check_number(value: object, field: str, *, minimum: int, maximum: int) -> int:
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


def required_version(expected: object) -> int:
    """Return ``expected`` if it names a version: replacements and restores must name one.

    Raises:
        ValidationError: ``None`` or not a version number (``field``: ``expected_version``).
    """
    if expected is None:
        raise ValidationError(
            "expected_version is required: name the version you read, so that a change made"
            " since is not overwritten unseen",
            details={"field": "expected_version"},
        )
    return check_number(expected, "expected_version", minimum=0, maximum=MAX_VERSION)


def check_version(
    kind: str, subject: Mapping[str, str], expected: int | None, current: int
) -> None:
    """Raise ``Conflict`` when ``expected`` is given and is not ``current``.

    Args:
        kind: ``flag``, ``segment`` or ``environment`` (for the message).
        subject: identifying fields for the message and ``details``.
    """
    if expected is None:
        return
    check_number(expected, "expected_version", minimum=0, maximum=MAX_VERSION)
    if expected == current:
        return
    named = ", ".join(f"{field} {value!r}" for field, value in subject.items())
    raise Conflict(
        f"{kind} ({named}) is at version {current}, not {expected}: it changed since it was"
        " read; read it again and reapply the change",
        details={**subject, "expected_version": expected, "current_version": current},
    )


def record(
    uow: UnitOfWork,
    action: AuditAction,
    *,
    subject: str,
    environment: str | None,
    states: tuple[Mapping[str, Any] | None, Mapping[str, Any] | None],
    who: tuple[str, str | None],
) -> None:
    """Append an audit event in ``uow``'s transaction, timed ``uow.now``.

    Args:
        states: the subject before and after (``None`` before a creation, after a deletion).
        who: the actor and the reason they gave.
    """
    (before, after), (actor, reason) = states, who
    uow.audit.record(
        AuditEvent(
            id=0,
            at=uow.now,
            actor=actor,
            action=action,
            environment=environment,
            subject=subject,
            before=before,
            after=after,
            reason=reason,
        )
    )
