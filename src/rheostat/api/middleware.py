"""``install_middleware(app, settings)``: the layers every request passes, outermost first.

1. ``SecurityHeaders``: nosniff, no framing, no referrer, a CSP, ``no-store`` on the API.
2. ``RequestMetrics``: counts and times the request by route template (sees every answer,
   429 and 500 included).
3. ``CORSMiddleware``, only when ``RHEOSTAT_CORS_ORIGINS`` lists origins: otherwise there are no
   CORS headers at all, and browsers refuse cross-origin calls.
4. ``InternalErrors``: an unexpected exception is logged with its traceback and answered
   ``500 internal_error`` in the one error shape: never a traceback in a response.
5. ``RateLimit``, only when ``RHEOSTAT_RATE_LIMIT_PER_SECOND`` is above 0.
6. ``BodySizeLimit``: 413 for a body over ``RHEOSTAT_MAX_BODY_BYTES``.
"""

from __future__ import annotations

import json
import logging
import math

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rheostat.api.errors import error_body
from rheostat.api.limits import BodySizeLimit
from rheostat.api.rate_limit import RateLimit
from rheostat.api.security_headers import SecurityHeaders
from rheostat.api.telemetry import RequestMetrics, Telemetry, route_label
from rheostat.clock import Clock
from rheostat.settings import Settings

__all__ = ["CORS_HEADERS", "InternalErrors", "install_middleware"]

logger = logging.getLogger("rheostat.api")

CORS_HEADERS = (
    "Authorization",
    "Content-Type",
    "X-API-Key",
    "If-Match",
    "If-None-Match",
    "Last-Event-ID",
)
_EXPOSED = ("ETag", "X-Rheostat-Revision", "Retry-After")


def install_middleware(
    app: FastAPI, settings: Settings, *, telemetry: Telemetry, clock: Clock | None = None
) -> None:
    """Add the layers above to ``app`` (Starlette runs the last one added first)."""
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    if settings.rate_limit_per_second > 0:
        rate = settings.rate_limit_per_second
        burst = settings.rate_limit_burst or max(1, math.ceil(2 * rate))
        app.add_middleware(RateLimit, rate=rate, burst=burst, telemetry=telemetry, clock=clock)
    app.add_middleware(InternalErrors)
    origins = settings.allowed_cors_origins
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(origins),
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=list(CORS_HEADERS),
            expose_headers=list(_EXPOSED),
            allow_credentials=False,
            max_age=600,
        )
    app.add_middleware(RequestMetrics, telemetry=telemetry, clock=clock)
    docs_paths = [
        path for path in (app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url) if path
    ]
    app.add_middleware(SecurityHeaders, html_csp=settings.html_csp, docs_paths=docs_paths)


class InternalErrors:
    """Pure ASGI middleware: answer an unhandled exception with ``500 internal_error``.

    The traceback goes to the log (``rheostat.api``), named by method and route template;
    the response only says that the server failed. An exception after the response started
    (a stream that broke) cannot be answered any more: it propagates to the server.
    """

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self._app(scope, receive, tracking_send)
        except Exception:
            if started:
                raise
            logger.exception(
                "rheostat: unhandled error in %s %s", scope.get("method"), route_label(scope)
            )
            await _answer_internal_error(send)


async def _answer_internal_error(send: Send) -> None:
    body = json.dumps(
        error_body(
            "internal_error",
            "the server failed to answer this request; the error is in its log",
        )
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
