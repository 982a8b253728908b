"""FastAPI and Starlette: a dependency that answers 503 when a flag is off for the request.

```python
from fastapi import Depends, FastAPI
from rheostat.integrations import fastapi as flags

app = FastAPI()
flags.install(app)  # the 503 body in the project's error shape
@app.get("/api/dashboard/metrics", dependencies=[Depends(flags.require_flag(client, "metrics"))])
```

Without ``install`` FastAPI renders the exception as ``{"detail": "<message>"}``. A plain
Starlette app registers ``flag_disabled_response`` for ``FlagDisabled`` and awaits the
dependency in its endpoint.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Unpack

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from rheostat.integrations.gate import (
    SERVICE_UNAVAILABLE,
    FlagGate,
    FlagReader,
    GateOptions,
    RequestFacts,
)

__all__ = ["FlagDisabled", "flag_disabled_response", "install", "require_flag"]


class FlagDisabled(HTTPException):
    """Raised by ``require_flag``'s dependency when the flag is off: a 503."""

    def __init__(self, gate: FlagGate) -> None:
        """Carry the gate's body; ``detail`` is its message."""
        self.body: dict[str, Any] = gate.body()
        self.flag = gate.flag
        super().__init__(status_code=SERVICE_UNAVAILABLE, detail=self.body["error"]["message"])


def require_flag(
    client: FlagReader, flag: str, **options: Unpack[GateOptions]
) -> Callable[[Request], Awaitable[None]]:
    """A dependency (``Depends(require_flag(client, "flag"))``) raising ``FlagDisabled``
    when ``flag`` is off for the request; see ``FlagGate`` for the options (``default``:
    ``False`` fails closed, ``True`` fails open)."""
    gate = FlagGate(client=client, flag=flag, **options)

    async def flag_is_on(request: Request) -> None:
        if not gate.allows(request, lambda: _facts(request)):
            raise FlagDisabled(gate)

    flag_is_on.__name__ = f"require_flag_{flag}"
    return flag_is_on


async def flag_disabled_response(request: Request, exc: Exception) -> Response:
    """The exception handler: ``FlagDisabled`` as a 503 in the project's error shape."""
    if not isinstance(exc, FlagDisabled):  # registered for FlagDisabled only
        raise exc
    return JSONResponse(exc.body, status_code=SERVICE_UNAVAILABLE)


def install(app: Any) -> None:
    """Register ``flag_disabled_response`` on a FastAPI or Starlette ``app``."""
    app.add_exception_handler(FlagDisabled, flag_disabled_response)


def _facts(request: Request) -> RequestFacts:
    return RequestFacts(
        method=request.method,
        path=request.url.path,
        header=request.headers.get,
        cookie=request.cookies.get,
    )
