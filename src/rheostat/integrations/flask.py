"""Flask: a view decorator that answers 503 when a flag is off for the request.

```python
from rheostat.integrations.flask import require_flag

@app.get("/api/dashboard/metrics")
@require_flag(client, "consolidated-metrics")
def metrics(): ...
```
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, TypeVar, Unpack, cast

import flask

from rheostat.integrations.gate import (
    SERVICE_UNAVAILABLE,
    FlagGate,
    FlagReader,
    GateOptions,
    RequestFacts,
)

__all__ = ["require_flag"]

View = TypeVar("View", bound=Callable[..., Any])


def require_flag(
    client: FlagReader, flag: str, **options: Unpack[GateOptions]
) -> Callable[[View], View]:
    """Decorate a view: when ``flag`` is off for ``flask.request`` it answers 503 with
    ``{"error": {"code": "flag_disabled", ...}}`` instead of running. Never raises; see
    ``FlagGate`` for the options (``default``: ``False`` fails closed, ``True`` fails open;
    ``context`` receives ``flask.request``)."""
    gate = FlagGate(client=client, flag=flag, **options)

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def gated(*args: Any, **kwargs: Any) -> Any:
            request = flask.request
            if not gate.allows(request, lambda: _facts(request)):
                return _disabled(gate)
            return flask.current_app.ensure_sync(view)(*args, **kwargs)

        return cast("View", gated)

    return decorate


def _disabled(gate: FlagGate) -> flask.Response:
    return flask.Response(
        json.dumps(gate.body()), status=SERVICE_UNAVAILABLE, mimetype="application/json"
    )


def _facts(request: flask.Request) -> RequestFacts:
    return RequestFacts(
        method=request.method,
        path=request.path,
        header=request.headers.get,
        cookie=request.cookies.get,
    )
