"""The audit log: appending an event in a transaction, and reading the log."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rheostat.errors import ValidationError
from rheostat.inputs import MAX_ROW_ID, validate_lookup, validate_number
from rheostat.service.change import Change
from rheostat.store.records import AuditAction, AuditEvent
from rheostat.store.unit_of_work import UnitOfWork

__all__ = ["list_audit_events", "record_audit"]

_MAX_LIMIT = 1000


def list_audit_events(
    uow: UnitOfWork,
    *,
    environment: str | None = None,
    subject: str | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[AuditEvent]:
    """Return audit events, newest first.

    Args:
        environment: only events of this environment.
        subject: only events about this subject (``flag:<key>``, ``segment:<key>``,
            ``environment:<key>``, ``api_key:<id>``).
        limit: at most this many (1..1000).
        before_id: for paging, only events with a smaller id.

    Raises:
        ValidationError: ``limit`` out of range, or a filter holding a control character.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= _MAX_LIMIT:
        raise ValidationError(
            f"limit must be an integer from 1 to {_MAX_LIMIT}, got {limit!r}",
            details={"field": "limit"},
        )
    if before_id is not None:
        validate_number(before_id, "before_id", minimum=1, maximum=MAX_ROW_ID)
    if environment is not None:
        validate_lookup(environment=environment)
    if subject is not None:
        validate_lookup(subject=subject)
    return uow.audit.list(
        environment=environment, subject=subject, limit=limit, before_id=before_id
    )


def record_audit(
    uow: UnitOfWork,
    action: AuditAction,
    *,
    subject: str,
    environment: str | None,
    states: tuple[Mapping[str, Any] | None, Mapping[str, Any] | None],
    change: Change,
) -> None:
    """Append an audit event in ``uow``'s transaction, timed ``uow.now``.

    Args:
        states: the subject before and after (``None`` before a creation, after a deletion).
        change: who made it and why.
    """
    before, after = states
    uow.audit.record(
        AuditEvent(
            id=0,
            at=uow.now,
            actor=change.actor,
            action=action,
            environment=environment,
            subject=subject,
            before=before,
            after=after,
            reason=change.reason,
        )
    )
