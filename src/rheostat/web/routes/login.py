"""Signing in with an admin key, and out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from rheostat import service
from rheostat.errors import RheostatError
from rheostat.service import ApiKey, ApiKeyScope
from rheostat.web.deps import (
    SignedIn,
    dashboard_secret,
    new_nonce,
    now_of,
    parse_form,
    read_form,
    store_of,
)
from rheostat.web.rendering import render
from rheostat.web.sessions import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    SESSION_LIFETIME,
    csrf_token,
    is_valid_csrf,
    issue_session,
)

__all__ = ["router", "safe_next"]

router = APIRouter(include_in_schema=False)
_LOGIN_COOKIE_S = 1800
_REFUSED = "That key was refused: it is unknown, revoked, or not an admin key."


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only (never ``//host`` or a URL)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/flags"
    return target


@router.get("/")
def home() -> RedirectResponse:
    """The dashboard starts at the flags."""
    return RedirectResponse("/flags", status_code=303)


@router.get("/login")
def login_page(
    request: Request, next_path: Annotated[str | None, Query(alias="next")] = None
) -> HTMLResponse:
    """The sign-in form."""
    return _login_form(request, next_path=safe_next(next_path), error="", status_code=200)


@router.post("/login")
async def login(request: Request) -> Response:
    """Sign in with an admin key: a session cookie (HttpOnly, SameSite=Strict) on success."""
    form = await parse_form(request)
    next_path = safe_next(form.get("next"))
    secret = dashboard_secret(request)
    if not is_valid_csrf(secret, request.cookies.get(LOGIN_COOKIE), form.get("csrf")):
        message = "The sign-in form expired; please try again."
        return _login_form(request, next_path=next_path, error=message, status_code=403)
    api_key = await run_in_threadpool(_admin_key, request, form.get("api_key", "").strip())
    if api_key is None:
        return _login_form(request, next_path=next_path, error=_REFUSED, status_code=401)
    cookie = issue_session(secret, api_key.id, now=now_of(request), nonce=new_nonce())
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request, viewer: SignedIn) -> Response:
    """Sign out (the cookie is dropped)."""
    await read_form(request, viewer)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _admin_key(request: Request, token: str) -> ApiKey | None:
    try:
        with store_of(request).reading() as uow:
            api_key = service.authenticate(uow, token)
        service.authorize(api_key, ApiKeyScope.ADMIN)
    except RheostatError:
        return None
    return api_key


def _login_form(request: Request, *, next_path: str, error: str, status_code: int) -> HTMLResponse:
    nonce = new_nonce()
    response = render(
        "login.html",
        {"csrf": csrf_token(dashboard_secret(request), nonce), "next": next_path, "error": error},
        status_code=status_code,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        nonce,
        max_age=_LOGIN_COOKIE_S,
        path="/login",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response
