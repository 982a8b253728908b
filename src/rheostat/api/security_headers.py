"""``SecurityHeaders``: the browser-facing headers every response carries.

``nosniff``, no framing, no referrer, and a Content-Security-Policy chosen by what the response
is: JSON, SSE and metrics get ``default-src 'none'`` (nothing in them may load anything); HTML
pages get ``RHEOSTAT_HTML_CSP`` (``default-src 'self'`` by default, for the dashboard), and the
interactive API docs a policy that lets them load Swagger UI and ReDoc from their CDN. A
response that sets one of these headers itself keeps its own. API and metrics responses that
say nothing about caching get ``Cache-Control: no-store`` (keys, audit trails and definitions
never sit in a shared cache); the SDK's flag document keeps its ``no-cache`` and ETag.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["API_CSP", "DOCS_CSP", "SecurityHeaders", "security_headers"]

API_CSP = "default-src 'none'; frame-ancestors 'none'"
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net;"
    " style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com;"
    " font-src 'self' https://fonts.gstatic.com; img-src 'self' data: https:;"
    " worker-src 'self' blob:; frame-ancestors 'none'"
)
"""FastAPI's ``/docs`` and ``/redoc`` pages load their scripts and styles from jsDelivr."""

_FIXED: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
_NO_STORE_PREFIXES = ("/api/", "/metrics")


def security_headers(
    path: str,
    content_type: str,
    *,
    html_csp: str,
    docs_paths: Collection[str] = (),
) -> list[tuple[bytes, bytes]]:
    """The headers a response to ``path`` with ``content_type`` should carry."""
    headers = list(_FIXED)
    if content_type.split(";")[0].strip().lower() == "text/html":
        policy = DOCS_CSP if path in docs_paths else html_csp
    else:
        policy = API_CSP
    headers.append((b"content-security-policy", policy.encode("latin-1")))
    if path.startswith(_NO_STORE_PREFIXES):
        headers.append((b"cache-control", b"no-store"))
    return headers


class SecurityHeaders:
    """Pure ASGI middleware: add ``security_headers`` the response does not set itself."""

    def __init__(self, app: ASGIApp, *, html_csp: str, docs_paths: Sequence[str] = ()) -> None:
        self._app = app
        self._html_csp = html_csp
        self._docs_paths = frozenset(docs_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        path = str(scope.get("path", ""))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                content_type = next(
                    (
                        value.decode("latin-1")
                        for name, value in headers
                        if name.lower() == b"content-type"
                    ),
                    "",
                )
                wanted = security_headers(
                    path, content_type, html_csp=self._html_csp, docs_paths=self._docs_paths
                )
                headers.extend(item for item in wanted if item[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self._app(scope, receive, send_with_headers)
