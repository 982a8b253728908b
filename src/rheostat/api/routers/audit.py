"""``/api/v1/audit``: who changed what, when and why, newest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from rheostat import service
from rheostat.api.deps import AdminKey, Transaction
from rheostat.api.schemas.audit import AuditEventList, AuditEventPublic
from rheostat.api.schemas.common import MAX_EVENT_ID

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("")
def list_audit_events(
    uow: Transaction,
    _: AdminKey,
    environment: Annotated[str | None, Query(description="only this environment")] = None,
    subject: Annotated[str | None, Query(description="flag:<key>, segment:<key>...")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_id: Annotated[
        int | None, Query(ge=1, le=MAX_EVENT_ID, description="page: events older than")
    ] = None,
) -> AuditEventList:
    """Page through the audit log; pass ``next_before_id`` back as ``before_id``."""
    events = service.list_audit_events(
        uow, environment=environment, subject=subject, limit=limit, before_id=before_id
    )
    next_before = events[-1].id if len(events) == limit else None
    return AuditEventList(
        items=[AuditEventPublic.from_record(event) for event in events],
        next_before_id=next_before,
    )
