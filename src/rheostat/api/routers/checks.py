"""``/api/v1/checks``: run a pre-flight suite now, and read stored check runs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, status

from rheostat import service
from rheostat.api.auth import actor_for
from rheostat.api.deps import AdminKey, StoreDep, Transaction
from rheostat.api.schemas.checks import CheckRunList, CheckRunPublic, SuiteRequest
from rheostat.api.schemas.common import MAX_EVENT_ID
from rheostat.checks import parse_suite, refuse_outside
from rheostat.settings import Settings

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/checks", tags=["checks"])


@router.post("/run", status_code=status.HTTP_201_CREATED)
def run_checks(
    body: SuiteRequest, request: Request, store: StoreDep, api_key: AdminKey
) -> CheckRunPublic:
    """Run a suite now and store the run (422 naming the path of a mistake; 403 for a check
    that reaches outside rheostat's own database unless the server allows its kind)."""
    suite = parse_suite(body.model_dump(exclude_none=True), environ=None)
    settings = getattr(request.app.state, "settings", None)
    allowed = settings.allowed_check_kinds if isinstance(settings, Settings) else frozenset()
    refuse_outside(suite, allowed)
    origin = service.RunOrigin(source="api", actor=actor_for(api_key))
    return CheckRunPublic.from_run(service.run_checks(store, suite, origin=origin))


@router.get("/runs")
def list_check_runs(
    uow: Transaction,
    _: AdminKey,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before_id: Annotated[
        int | None, Query(ge=1, le=MAX_EVENT_ID, description="page: runs older than")
    ] = None,
) -> CheckRunList:
    """Stored runs, newest first."""
    runs = service.list_check_runs(uow, limit=limit, before=before_id)
    return CheckRunList(
        items=[CheckRunPublic.from_run(run) for run in runs],
        next_before_id=runs[-1].id if len(runs) == limit else None,
    )


@router.get("/runs/{run_id}")
def get_check_run(
    run_id: Annotated[int, Path(ge=1, le=MAX_EVENT_ID)], uow: Transaction, _: AdminKey
) -> CheckRunPublic:
    """One stored run with every result."""
    return CheckRunPublic.from_run(service.get_check_run(uow, run_id))
