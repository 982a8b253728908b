"""``/api/v1/alerts``: firing and resolved alerts, and each environment's alert rules."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from rheostat import service
from rheostat.api.auth import actor_for
from rheostat.api.deps import AdminKey, EnvironmentQuery, Transaction
from rheostat.api.schemas.common import MAX_EVENT_ID, ChangeRequest, ItemList
from rheostat.api.schemas.operations import AlertPublic, AlertRulesPublic, AlertRulesUpdate
from rheostat.service import AlertStatus

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])


@router.get("")
def list_alerts(
    uow: Transaction,
    _: AdminKey,
    environment: Annotated[str | None, Query(min_length=1, max_length=63)] = None,
    status: AlertStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ItemList[AlertPublic]:
    """Alerts, newest first; ``?status=firing`` for those still firing."""
    alerts = service.list_alerts(uow, environment=environment, status=status, limit=limit)
    return ItemList(items=[AlertPublic.from_record(alert) for alert in alerts])


@router.get("/rules")
def get_alert_rules(
    environment: EnvironmentQuery, uow: Transaction, _: AdminKey
) -> AlertRulesPublic:
    """The environment's alert rules (version 0 and no rules when none were set)."""
    return AlertRulesPublic.from_record(service.get_alert_rules(uow, environment))


@router.put("/rules")
def set_alert_rules(
    environment: EnvironmentQuery, body: AlertRulesUpdate, uow: Transaction, api_key: AdminKey
) -> AlertRulesPublic:
    """Replace the environment's alert rules (validated whole; 422 names the path)."""
    change = service.Change(actor=actor_for(api_key), reason=body.reason)
    stored = service.set_alert_rules(uow, environment, body.document, change=change)
    return AlertRulesPublic.from_record(stored)


@router.post("/{alert_id}/resolve")
def resolve_alert(
    alert_id: Annotated[int, Path(ge=1, le=MAX_EVENT_ID)],
    uow: Transaction,
    api_key: AdminKey,
    body: ChangeRequest | None = None,
) -> AlertPublic:
    """Resolve a firing alert by hand (a rollback alert stays firing until someone does)."""
    reason = None if body is None else body.reason
    change = service.Change(actor=actor_for(api_key), reason=reason)
    return AlertPublic.from_record(service.resolve_alert(uow, alert_id, change=change))
