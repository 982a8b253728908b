"""Who is looking: the signed-in admin key of a request, its CSRF check, and the store.

Pages reach the database only through ``rheostat.service``, in transactions they open with
the store the application's lifespan built (``app.state.store``).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from urllib.parse import parse_qs, quote

from fastapi import Depends, HTTPException, Request, status

from rheostat import service
from rheostat.errors import ConfigurationError, NotFound
from rheostat.service import ApiKey, ApiKeyScope, SqlStore
from rheostat.web.sessions import (
    SESSION_COOKIE,
    Session,
    csrf_token,
    is_valid_csrf,
    read_session,
)

__all__ = [
    "SECRET_STATE",
    "Form",
    "SignedIn",
    "Viewer",
    "actor_for",
    "current_viewer",
    "dashboard_secret",
    "now_of",
    "read_form",
    "store_of",
]

SECRET_STATE = "dashboard_secret"  # noqa: S105  # an attribute name, not a secret
"""The ``app.state`` attribute holding the key that signs sessions."""

Form = Mapping[str, str]


@dataclass(frozen=True, slots=True, kw_only=True)
class Viewer:
    """The signed-in admin key, and the CSRF token its forms carry."""

    api_key: ApiKey
    session: Session
    csrf: str

    @property
    def actor(self) -> str:
        """How the viewer's changes are recorded (as for the same key over the API)."""
        return actor_for(self.api_key)


def actor_for(api_key: ApiKey) -> str:
    """The audit actor of a key: ``api-key:<name>``, as the HTTP API records it."""
    return f"api-key:{api_key.name}"


def dashboard_secret(request: Request) -> bytes:
    """The key that signs this application's sessions."""
    secret = getattr(request.app.state, SECRET_STATE, None)
    if not isinstance(secret, bytes):
        raise ConfigurationError("the dashboard is not mounted (no session secret)")
    return secret


def store_of(request: Request) -> SqlStore:
    """The store the application's lifespan opened."""
    store = getattr(request.app.state, "store", None)
    if not isinstance(store, SqlStore):
        raise ConfigurationError("the application is not started (its lifespan has not run)")
    return store


def now_of(request: Request) -> datetime:
    """Now, by the store's clock (the one audit times use)."""
    return store_of(request).clock.now()


def current_viewer(request: Request) -> Viewer:
    """The signed-in admin key; otherwise a redirect to the login page.

    The key is looked up on every request, so a revoked key's sessions end at once.
    """
    secret = dashboard_secret(request)
    session = read_session(secret, request.cookies.get(SESSION_COOKIE), now=now_of(request))
    api_key = None if session is None else _active_admin_key(request, session.key_id)
    if session is None or api_key is None:
        raise _login_required(request)
    return Viewer(api_key=api_key, session=session, csrf=csrf_token(secret, session.nonce))


SignedIn = Annotated[Viewer, Depends(current_viewer)]


def _active_admin_key(request: Request, key_id: str) -> ApiKey | None:
    try:
        with store_of(request).reading() as uow:
            api_key = service.get_api_key(uow, key_id)
    except NotFound:
        return None
    if not api_key.is_active or api_key.scope is not ApiKeyScope.ADMIN:
        return None
    return api_key


def _login_required(request: Request) -> HTTPException:
    if request.headers.get("HX-Request"):  # a fragment: send the whole page to the login
        return HTTPException(status.HTTP_401_UNAUTHORIZED, headers={"HX-Redirect": "/login"})
    wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = f"/login?next={quote(wanted, safe='')}"
    return HTTPException(status.HTTP_303_SEE_OTHER, headers={"Location": location})


async def read_form(request: Request, viewer: Viewer) -> Form:
    """The submitted form, once its CSRF token is the viewer's (otherwise 403)."""
    form = await parse_form(request)
    if not is_valid_csrf(dashboard_secret(request), viewer.session.nonce, form.get("csrf")):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the form's CSRF token is missing or stale")
    return form


async def parse_form(request: Request) -> Form:
    """An ``application/x-www-form-urlencoded`` body (each field's first value)."""
    body = (await request.body()).decode("utf-8", errors="replace")
    return {name: values[0] for name, values in parse_qs(body, keep_blank_values=True).items()}


def new_nonce() -> str:
    """A random nonce for a session or a login form."""
    return secrets.token_urlsafe(18)
