"""Audit log schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from rheostat.service import AuditEvent

__all__ = ["AuditEventList", "AuditEventPublic"]


class AuditEventPublic(BaseModel):
    """Who changed what, when, why, with the state before and after."""

    id: int
    at: datetime
    actor: str
    action: str
    environment: str | None
    subject: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None

    @classmethod
    def from_record(cls, event: AuditEvent) -> AuditEventPublic:
        """Convert the service's value."""
        return cls(
            id=event.id,
            at=event.at,
            actor=event.actor,
            action=str(event.action),
            environment=event.environment,
            subject=event.subject,
            before=None if event.before is None else dict(event.before),
            after=None if event.after is None else dict(event.after),
            reason=event.reason,
        )


class AuditEventList(BaseModel):
    """A page of audit events, newest first; pass ``next_before_id`` as ``before_id``."""

    items: list[AuditEventPublic]
    next_before_id: int | None = Field(description="null when this is the last page")
