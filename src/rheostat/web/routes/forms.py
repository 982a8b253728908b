"""A form post: CSRF-checked, validated, applied in one transaction, then a redirect.

Every dashboard command has the same shape: read the form (its CSRF token must be the
viewer's), turn it into a service call's arguments (``prepare``: parsing and checks, before
any transaction), make the call in one unit of work (``apply``, which returns the status
message), and redirect back with that message. A refusal (any ``RheostatError``, from either
step) shows the error page, or what the route's ``refused`` renders instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from rheostat.errors import RheostatError
from rheostat.service import UnitOfWork
from rheostat.web.deps import Form, Viewer, read_form, store_of
from rheostat.web.routes.common import back_to, problem

__all__ = ["submit"]

Prepared = TypeVar("Prepared")


async def submit(
    request: Request,
    viewer: Viewer,
    *,
    prepare: Callable[[Form], Prepared],
    apply: Callable[[UnitOfWork, Prepared], str],
    back: str,
    refused: Callable[[RheostatError], Response] | None = None,
) -> Response:
    """Read the form, then (in a worker thread, as the store is synchronous) ``prepare`` it
    and ``apply`` the result in one unit of work; redirect (303) to ``back`` with the message
    ``apply`` returns. A ``RheostatError`` is answered by ``refused``, else the error page
    leading back to ``back``. A form without the viewer's CSRF token is a 403."""
    form = await read_form(request, viewer)

    def carry_out() -> Response:
        try:
            prepared = prepare(form)
            with store_of(request).unit_of_work() as uow:
                notice = apply(uow, prepared)
        except RheostatError as error:
            if refused is not None:
                return refused(error)
            return problem(error, viewer=viewer, request=request, back=back)
        return back_to(back, notice)

    return await run_in_threadpool(carry_out)
