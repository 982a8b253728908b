"""The append-only audit log."""

from __future__ import annotations

import builtins

from sqlalchemy import select
from sqlalchemy.orm import Session

from rheostat.store.mappers import to_audit_event
from rheostat.store.records import AuditEvent
from rheostat.store.tables import AuditEventRow

__all__ = ["AuditRepository"]


class AuditRepository:
    """Appends to and reads ``audit_events`` in one session; nothing is ever updated."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def record(self, event: AuditEvent) -> AuditEvent:
        """Append ``event`` (its ``id`` is ignored and assigned by the database)."""
        row = AuditEventRow(
            at=event.at,
            actor=event.actor,
            action=event.action.value,
            environment=event.environment,
            subject=event.subject,
            before=None if event.before is None else dict(event.before),
            after=None if event.after is None else dict(event.after),
            reason=event.reason,
        )
        self._session.add(row)
        self._session.flush()
        return to_audit_event(row)

    def list(
        self,
        *,
        environment: str | None = None,
        subject: str | None = None,
        limit: int = 100,
        before_id: int | None = None,
    ) -> builtins.list[AuditEvent]:
        """Return events, newest first, filtered by environment and subject."""
        statement = select(AuditEventRow).order_by(AuditEventRow.id.desc()).limit(limit)
        if environment is not None:
            statement = statement.where(AuditEventRow.environment == environment)
        if subject is not None:
            statement = statement.where(AuditEventRow.subject == subject)
        if before_id is not None:
            statement = statement.where(AuditEventRow.id < before_id)
        return [to_audit_event(row) for row in self._session.scalars(statement)]
