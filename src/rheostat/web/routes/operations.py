"""Backfill jobs, check runs, the audit log, the SDK reach of the latest changes, health."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse

from rheostat import service
from rheostat.errors import RheostatError
from rheostat.web.charts import progress_bar
from rheostat.web.deps import SignedIn, store_of
from rheostat.web.operation_views import (
    audit_rows,
    backfill_row,
    check_run_row,
    health_view,
    reach_row,
)
from rheostat.web.rendering import render
from rheostat.web.routes.common import page, read_environment_rows

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
EnvironmentParam = Annotated[str | None, Query(max_length=63)]
FilterParam = Annotated[str, Query(max_length=200)]
_AUDIT_PAGE = 50
_REACH_FLAGS = 12


@router.get("/backfills")
def backfills_page(request: Request, viewer: SignedIn) -> HTMLResponse:
    """Every backfill job: progress, rows/s, ETA and the verify result (refreshing)."""
    return page(
        "backfills.html",
        viewer=viewer,
        active="/backfills",
        title="Backfill jobs",
        request=request,
        **_backfills(request),
    )


@router.get("/backfills/rows")
def backfills_fragment(request: Request, viewer: SignedIn) -> HTMLResponse:
    """The backfill table (polled while a job runs)."""
    return render("_backfill_rows.html", {"viewer": viewer, **_backfills(request)})


def _backfills(request: Request) -> dict[str, Any]:
    with store_of(request).reading() as uow:
        records = service.list_backfills(uow)
    rows = [backfill_row(service.backfill_status_document(record)) for record in records]
    bars = {row.name: progress_bar(row.percent, label=f"{row.name} progress") for row in rows}
    return {"rows": rows, "bars": bars, "live": any(row.is_live for row in rows)}


@router.get("/checks")
def checks_page(request: Request, viewer: SignedIn) -> HTMLResponse:
    """The latest check runs, newest first."""
    with store_of(request).reading() as uow:
        runs = service.list_check_runs(uow, limit=30)
    return page(
        "checks.html",
        viewer=viewer,
        active="/checks",
        title="Checks",
        request=request,
        runs=[check_run_row(run) for run in runs],
    )


@router.get("/audit")
def audit_page(
    request: Request,
    viewer: SignedIn,
    environment: FilterParam = "",
    subject: FilterParam = "",
    actor: FilterParam = "",
    action: FilterParam = "",
) -> HTMLResponse:
    """The audit log, filtered by environment and subject (in the store) and by actor and
    action (among the newest events)."""
    error = ""
    try:
        with store_of(request).reading() as uow:
            environments = [e.key for e in service.list_environments(uow)]
            events = service.list_audit_events(
                uow,
                environment=environment or None,
                subject=subject.strip() or None,
                limit=500 if actor or action else _AUDIT_PAGE,
            )
    except RheostatError as refused:
        environments, events, error = [], [], refused.message
    rows = [
        row
        for row in audit_rows(events)
        if actor.lower() in row.actor.lower() and action.lower() in row.action.lower()
    ][:_AUDIT_PAGE]
    return page(
        "audit.html",
        viewer=viewer,
        active="/audit",
        title="Audit log",
        request=request,
        environments=environments,
        filters={"environment": environment, "subject": subject, "actor": actor, "action": action},
        rows=rows,
        error=error,
    )


@router.get("/reach")
def reach_page(
    request: Request, viewer: SignedIn, environment: EnvironmentParam = None
) -> HTMLResponse:
    """How far the latest change of the most recently changed flags reached the SDKs."""
    environments, chosen, rows = read_environment_rows(request, environment, _reach)
    return page(
        "reach.html",
        viewer=viewer,
        active="/reach",
        title="SDK reach",
        request=request,
        environments=environments,
        environment=chosen,
        rows=rows,
    )


def _reach(uow: service.UnitOfWork, environment: str) -> list[Any]:
    flags = sorted(service.list_flags(uow, environment), key=lambda f: f.updated_at, reverse=True)[
        :_REACH_FLAGS
    ]
    return [reach_row(service.flag_reach(uow, environment, flag.key)) for flag in flags]


@router.get("/status")
def health_page(request: Request, viewer: SignedIn) -> HTMLResponse:
    """Health: the database, kill switches engaged, running plans, firing alerts."""
    report = service.check_health(store_of(request))
    return page(
        "health.html",
        viewer=viewer,
        active="/status",
        title="Health",
        request=request,
        health=health_view(report),
    )
