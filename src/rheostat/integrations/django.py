"""Django: a view decorator that answers 503 when a flag is off for the request.

```python
from rheostat.integrations.django import require_flag

@require_flag(client, "consolidated-metrics")
def metrics(request): ...
```

Function views, sync or async; for a class-based view use
``method_decorator(require_flag(...), name="dispatch")``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar, Unpack, cast

from django.http import HttpRequest, JsonResponse

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
    """Decorate a view: when ``flag`` is off for the request it answers 503 with
    ``{"error": {"code": "flag_disabled", ...}}`` instead of running. Never raises; see
    ``FlagGate`` for the options (``default``: ``False`` fails closed, ``True`` fails open;
    ``context`` receives the ``HttpRequest``)."""
    gate = FlagGate(client=client, flag=flag, **options)

    def decorate(view: View) -> View:
        if inspect.iscoroutinefunction(view):

            @functools.wraps(view)
            async def gated_async(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
                if not gate.allows(request, lambda: _facts(request)):
                    return _disabled(gate)
                return await view(request, *args, **kwargs)

            return cast("View", gated_async)

        @functools.wraps(view)
        def gated(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if not gate.allows(request, lambda: _facts(request)):
                return _disabled(gate)
            return view(request, *args, **kwargs)

        return cast("View", gated)

    return decorate


def _disabled(gate: FlagGate) -> JsonResponse:
    return JsonResponse(gate.body(), status=SERVICE_UNAVAILABLE)


def _facts(request: HttpRequest) -> RequestFacts:
    return RequestFacts(
        method=request.method or "",
        path=request.path,
        header=request.headers.get,
        cookie=request.COOKIES.get,
    )
