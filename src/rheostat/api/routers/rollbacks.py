"""``/api/v1/flags/{key}/rollback`` and ``/rollbacks``: roll a flag back, and its history.

A rollback is applied in the request's transaction (a running release plan of the flag is
aborted in it too); a gradual one's next steps are applied by the controller loop.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, BackgroundTasks, Request, status

from rheostat import service
from rheostat.api.auth import actor_for
from rheostat.api.deps import AdminKey, EnvironmentQuery, IfMatch, Transaction
from rheostat.api.deps import resolve_expected_version as resolve_version
from rheostat.api.routers.background import deliver_after_response
from rheostat.api.schemas.common import ItemList
from rheostat.api.schemas.operations import RollbackCreate, RollbackPublic

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/flags", tags=["rollbacks"])


@router.post("/{key}/rollback", status_code=status.HTTP_201_CREATED)
def rollback_flag(  # noqa: PLR0913  # FastAPI injects each dependency as a parameter
    key: str,
    environment: EnvironmentQuery,
    body: RollbackCreate,
    uow: Transaction,
    api_key: AdminKey,
    request: Request,
    background: BackgroundTasks,
    if_match: IfMatch = None,
) -> RollbackPublic:
    """Roll the flag back now (immediate, gradual, targeted, or to a version)."""
    rollback = service.RollbackRequest(
        mode=body.mode,
        users=tuple(body.users),
        groups=tuple(body.groups),
        orgs=tuple(body.orgs),
        org_attribute=body.org_attribute,
        version=body.version,
        steps=tuple(body.steps),
        bake=timedelta(seconds=body.bake_seconds),
    )
    change = service.Change(
        actor=actor_for(api_key),
        reason=body.reason,
        expected_version=resolve_version(body.expected_version, if_match),
    )
    record = service.rollback_flag(uow, environment, key, rollback, change=change)
    deliver_after_response(request, background)
    return RollbackPublic.from_record(record)


@router.get("/{key}/rollbacks")
def rollback_history(
    key: str, environment: EnvironmentQuery, uow: Transaction, _: AdminKey
) -> ItemList[RollbackPublic]:
    """The flag's rollbacks, newest first: who, when, why, mode, from and to."""
    records = service.rollback_history(uow, environment, key)
    return ItemList(items=[RollbackPublic.from_record(record) for record in records])
