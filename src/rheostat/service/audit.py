"""Reading the audit log."""

from __future__ import annotations

from rheostat.errors import ValidationError
from rheostat.service.guards import MAX_ROW_ID, check_lookup, check_number
from rheostat.store import SqlStore
from rheostat.store.records import AuditEvent

__all__ = ["list_audit_events"]

_MAX_LIMIT = 1000


def list_audit_events(
    store: SqlStore,
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
        check_number(before_id, "before_id", minimum=1, maximum=MAX_ROW_ID)
    if environment is not None:
        check_lookup(environment=environment)
    if subject is not None:
        check_lookup(subject=subject)
    with store.unit_of_work() as uow:
        return uow.audit.list(
            environment=environment, subject=subject, limit=limit, before_id=before_id
        )
