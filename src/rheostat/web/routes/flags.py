"""Flags: the list (search, state, rollout), a flag's rules, variants and history, the kill
switch (confirmed, with a reason) and restoring an old version."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse, Response

from rheostat import service
from rheostat.errors import RheostatError, ValidationError
from rheostat.service import UnitOfWork
from rheostat.web.deps import Form, SignedIn, Viewer, store_of
from rheostat.web.flag_views import flag_rows, history_rows, rule_rows, variant_rows
from rheostat.web.rendering import render
from rheostat.web.routes.common import page, problem, read_environment_rows
from rheostat.web.routes.forms import submit

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
EnvironmentParam = Annotated[str | None, Query(max_length=63)]
SearchParam = Annotated[str, Query(max_length=200)]


@router.get("/flags")
def flags_page(
    request: Request, viewer: SignedIn, environment: EnvironmentParam = None, q: SearchParam = ""
) -> HTMLResponse:
    """Every flag of the environment: state, rollout percentage, a kill button."""
    environments, chosen, summaries = read_environment_rows(
        request, environment, service.flag_summaries
    )
    return page(
        "flags.html",
        viewer=viewer,
        active="/flags",
        title="Flags",
        request=request,
        environments=environments,
        environment=chosen,
        search=q,
        rows=flag_rows(summaries, search=q),
    )


@router.get("/flags/rows")
def flag_rows_fragment(
    request: Request, viewer: SignedIn, environment: EnvironmentParam = None, q: SearchParam = ""
) -> HTMLResponse:
    """The table rows only, for the search box (htmx)."""
    _, _, summaries = read_environment_rows(request, environment, service.flag_summaries)
    rows = flag_rows(summaries, search=q)
    return render("_flag_rows.html", {"rows": rows, "viewer": viewer})


@router.get("/flags/{environment}/{key}")
def flag_page(request: Request, viewer: SignedIn, environment: str, key: str) -> HTMLResponse:
    """A flag: variants, rules, and its history with what each version changed."""
    try:
        with store_of(request).reading() as uow:
            record = service.get_flag(uow, environment, key)
            history = service.flag_history(uow, environment, key)
            stats = service.flag_stats(uow, environment, key)
    except RheostatError as error:
        return problem(error, viewer=viewer, request=request, back="/flags")
    return page(
        "flag.html",
        viewer=viewer,
        active="/flags",
        title=f"Flag {key}",
        request=request,
        environment=environment,
        flag=record,
        stats=stats,
        variants=variant_rows(record.definition),
        rules=rule_rows(record.definition),
        history=history_rows(history),
    )


@router.get("/flags/{environment}/{key}/kill")
def kill_confirmation(
    request: Request, viewer: SignedIn, environment: str, key: str
) -> HTMLResponse:
    """Ask before engaging the kill switch, and ask why."""
    return _kill_form(request, viewer, environment, key, error="", status_code=200)


@router.post("/flags/{environment}/{key}/kill")
async def kill(request: Request, viewer: SignedIn, environment: str, key: str) -> Response:
    """Engage the kill switch (audited as ``flag.killed`` with the reason given)."""

    def apply(uow: UnitOfWork, change: service.Change) -> str:
        service.kill_flag(uow, environment, key, change=change)
        return f"Flag {key} killed"

    def refused(error: RheostatError) -> Response:
        return _kill_form(request, viewer, environment, key, error=error.message, status_code=422)

    return await submit(
        request,
        viewer,
        prepare=lambda form: _reasoned_change(form, viewer),
        apply=apply,
        back=f"/flags/{environment}/{key}",
        refused=refused,
    )


@router.post("/flags/{environment}/{key}/enable")
async def enable(request: Request, viewer: SignedIn, environment: str, key: str) -> Response:
    """Turn a killed flag back on."""

    def apply(uow: UnitOfWork, change: service.Change) -> str:
        service.enable_flag(uow, environment, key, change=change)
        return f"Flag {key} turned back on"

    return await submit(
        request,
        viewer,
        prepare=lambda form: _reasoned_change(form, viewer),
        apply=apply,
        back=f"/flags/{environment}/{key}",
    )


@router.post("/flags/{environment}/{key}/restore")
async def restore(request: Request, viewer: SignedIn, environment: str, key: str) -> Response:
    """Write a new version equal to an old one."""

    def prepare(form: Form) -> tuple[int, service.Change]:
        version, expected = _integer(form, "version"), _integer(form, "expected_version")
        reason = form.get("reason", "").strip() or f"restored version {version} from the dashboard"
        return version, service.Change(actor=viewer.actor, reason=reason, expected_version=expected)

    def apply(uow: UnitOfWork, prepared: tuple[int, service.Change]) -> str:
        version, change = prepared
        record = service.restore_flag(uow, environment, key, version, change=change)
        return f"Restored version {version} as version {record.version}"

    return await submit(
        request, viewer, prepare=prepare, apply=apply, back=f"/flags/{environment}/{key}"
    )


def _reasoned_change(form: Form, viewer: Viewer) -> service.Change:
    reason = form.get("reason", "").strip()
    if not reason:
        raise ValidationError("say why: the reason is recorded in the audit log")
    return service.Change(actor=viewer.actor, reason=reason)


def _kill_form(
    request: Request,
    viewer: Viewer,
    environment: str,
    key: str,
    *,
    error: str,
    status_code: int,
) -> HTMLResponse:
    try:
        with store_of(request).reading() as uow:
            record = service.get_flag(uow, environment, key)
    except RheostatError as missing:
        return problem(missing, viewer=viewer, request=request, back="/flags")
    return page(
        "kill.html",
        viewer=viewer,
        active="/flags",
        title=f"Kill {key}?",
        request=request,
        environment=environment,
        flag=record,
        error=error,
        status_code=status_code,
    )


def _integer(form: Form, name: str) -> int:
    text = form.get(name, "")
    if not text.isdigit():
        raise ValidationError(f"{name} must be a whole number, got {text!r}")
    return int(text)
