"""What every page shares: the navigation, the environment picker and the error page."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import quote

from fastapi import Request
from starlette.responses import HTMLResponse, RedirectResponse

from rheostat import service
from rheostat.errors import RheostatError
from rheostat.service import UnitOfWork
from rheostat.web.deps import Viewer, store_of
from rheostat.web.rendering import render

__all__ = [
    "NAV",
    "back_to",
    "page",
    "pick_environment",
    "problem",
    "read_environment_rows",
]

NAV: tuple[tuple[str, str], ...] = (
    ("/flags", "Flags"),
    ("/plans", "Release plans"),
    ("/experiments", "Experiments"),
    ("/backfills", "Backfills"),
    ("/checks", "Checks"),
    ("/audit", "Audit log"),
    ("/reach", "SDK reach"),
    ("/status", "Health"),
)
PREFERRED_ENVIRONMENT = "production"
_STATUS_BY_CODE: Mapping[str, int] = {
    "not_found": 404,
    "already_exists": 409,
    "conflict": 409,
    "validation_error": 422,
    "invalid_definition": 422,
    "unauthenticated": 401,
    "permission_denied": 403,
    "storage_error": 503,
}


def pick_environment(uow: UnitOfWork, requested: str | None) -> tuple[list[str], str | None]:
    """Every environment, and the one to show: the requested one if it exists, else
    ``production``, else the first."""
    keys = [environment.key for environment in service.list_environments(uow)]
    if requested in keys:
        return keys, requested
    if PREFERRED_ENVIRONMENT in keys:
        return keys, PREFERRED_ENVIRONMENT
    return keys, keys[0] if keys else None


Row = TypeVar("Row")


def read_environment_rows(
    request: Request, requested: str | None, read: Callable[[UnitOfWork, str], list[Row]]
) -> tuple[list[str], str | None, list[Row]]:
    """In one read-only transaction: every environment, the one to show
    (``pick_environment``) and what ``read`` finds in it (nothing when there is none)."""
    with store_of(request).reading() as uow:
        environments, chosen = pick_environment(uow, requested)
        rows = [] if chosen is None else read(uow, chosen)
    return environments, chosen, rows


def page(
    name: str,
    *,
    viewer: Viewer,
    active: str,
    title: str,
    request: Request,
    **values: Any,
) -> HTMLResponse:
    """Render a page of the dashboard (navigation, picker, status message included)."""
    context: dict[str, Any] = {
        "viewer": viewer,
        "nav": NAV,
        "active": active,
        "title": title,
        "notice": request.query_params.get("done", "")[:300],
        "environments": [],
        "environment": None,
        **values,
    }
    status_code = int(context.pop("status_code", 200))
    return render(name, context, status_code=status_code)


def problem(error: RheostatError, *, viewer: Viewer, request: Request, back: str) -> HTMLResponse:
    """The error page: what was refused and why, with a way back."""
    return page(
        "problem.html",
        viewer=viewer,
        active="",
        title="Refused",
        request=request,
        error=error,
        back=back,
        status_code=_STATUS_BY_CODE.get(error.code, 500),
    )


def back_to(path: str, notice: str, query: Mapping[str, str] | None = None) -> RedirectResponse:
    """Redirect (303) to ``path`` with a status message shown once."""
    params = {**(query or {}), "done": notice}
    encoded = "&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in params.items())
    return RedirectResponse(f"{path}?{encoded}", status_code=303)
