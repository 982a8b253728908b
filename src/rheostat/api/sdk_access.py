"""One short transaction per SDK request: authenticate, authorise and read in one worker thread.

The routes SDKs call in crowds (every process at start, after a deploy, after each kill) do
not use the ``Transaction`` dependency chain: there each dependency is a separate hop through
the thread pool, and a request holds its pooled connection between hops. A crowd larger than
the connection pool then holds every connection while waiting for a thread, and the threads
wait for connections: the server stalls until the pool times out (measured: 300 concurrent
``GET /api/v1/client/flags`` on PostgreSQL answered only 503 and timeouts). Here the
connection is taken and given back within one thread hop, so a crowd only queues.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import Request

from rheostat.api.auth import read_token
from rheostat.api.deps import sdk_environment
from rheostat.service import SqlStore, UnitOfWork, authenticate

__all__ = ["sdk_unit"]


@contextmanager
def sdk_unit(
    store: SqlStore,
    request: Request,
    *,
    environment: str | None,
    x_api_key: str | None,
    write: bool = False,
) -> Iterator[tuple[UnitOfWork, str]]:
    """Open the request's transaction, check its key; yield it and the environment it may use.

    Raises:
        Unauthenticated, PermissionDenied, ValidationError: as the ``SdkEnvironment``
        dependency does.
    """
    token = read_token(request.headers.get("authorization"), x_api_key)
    opened = store.unit_of_work() if write else store.reading()
    with opened as uow:
        yield uow, sdk_environment(authenticate(uow, token), environment)
