"""The dashboard: server-rendered pages (Jinja2 + vendored htmx) over ``rheostat.service``.

``mount_dashboard(app)`` adds the pages and the static files to the API's application, so
``rheostat serve`` answers both. Sign-in takes an admin key; the session is a signed,
stateless cookie (``rheostat.web.sessions``) under ``RHEOSTAT_SESSION_SECRET``, or under a
random per-process secret when that is unset (sessions then end when the server restarts,
and each replica needs the same secret).
"""

from __future__ import annotations

import secrets

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from rheostat.web.deps import SECRET_STATE
from rheostat.web.routes import ROUTERS

__all__ = ["mount_dashboard"]

_SECRET_BYTES = 32


def mount_dashboard(app: FastAPI) -> None:
    """Add the dashboard's pages at ``/`` and its static files at ``/static`` to ``app``."""
    settings = getattr(app.state, "settings", None)
    configured = getattr(settings, "session_secret", None)
    secret = configured.encode() if configured else secrets.token_bytes(_SECRET_BYTES)
    setattr(app.state, SECRET_STATE, secret)
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(packages=[("rheostat.web", "static")]), name="static")
