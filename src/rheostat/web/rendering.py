"""Rendering dashboard pages: the Jinja2 environment and the headers every page carries."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse

__all__ = ["PAGE_HEADERS", "render", "templates"]

PAGE_HEADERS: Mapping[str, str] = {
    "Cache-Control": "no-store",
    # Scripts and styles only from the dashboard's own static files: no inline code at all.
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self';"
        " base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


@cache
def templates() -> Environment:
    """The dashboard's templates (autoescaped; a missing variable is an error, not blank)."""
    return Environment(
        loader=PackageLoader("rheostat.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(
    name: str,
    context: Mapping[str, Any],
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render template ``name`` with ``context`` into a response."""
    body = templates().get_template(name).render(**context)
    return HTMLResponse(body, status_code=status_code, headers={**PAGE_HEADERS, **(headers or {})})
