"""``Annotated`` dependencies of the routes: the transaction, the caller's key, parameters.

Authentication and scope checks are dependencies, so they run before the body is validated:
an ``sdk`` key gets 403 from an admin route whatever it sends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Annotated

from fastapi import Depends, Header, Query, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from rheostat.api.auth import read_token
from rheostat.api.schemas.common import MAX_VERSION
from rheostat.errors import ConfigurationError, ValidationError
from rheostat.service import (
    ApiKey,
    ApiKeyScope,
    SnapshotCache,
    SqlStore,
    UnitOfWork,
    authenticate,
    authorize,
)

__all__ = [
    "AdminKey",
    "AnyKey",
    "EnvironmentQuery",
    "IfMatch",
    "SdkEnvironment",
    "SnapshotsDep",
    "StoreDep",
    "Transaction",
    "bearer",
    "require_expected_version",
    "resolve_expected_version",
    "sdk_environment",
    "snapshots_of",
    "store_of",
    "version_etag",
]

bearer = HTTPBearer(auto_error=False, description="an API key: rh_admin_... or rh_sdk_...")


def store_of(request: Request) -> SqlStore:
    """Return the store the application's lifespan opened."""
    store = getattr(request.app.state, "store", None)
    if not isinstance(store, SqlStore):
        raise ConfigurationError("the application is not started (its lifespan has not run)")
    return store


async def get_store(request: Request) -> SqlStore:
    """``store_of`` as a dependency. ``async`` although it awaits nothing: FastAPI runs a plain
    ``def`` dependency in a worker thread, and that hop costs more than the lookup itself."""
    return store_of(request)


StoreDep = Annotated[SqlStore, Depends(get_store)]


def snapshots_of(request: Request) -> SnapshotCache:
    """Return the process's cache of SDK snapshots (built by the lifespan)."""
    snapshots = getattr(request.app.state, "snapshots", None)
    if not isinstance(snapshots, SnapshotCache):
        raise ConfigurationError("the application is not started (its lifespan has not run)")
    return snapshots


async def get_snapshots(request: Request) -> SnapshotCache:
    """``snapshots_of`` as a dependency (``async`` to stay on the event loop, as ``get_store``)."""
    return snapshots_of(request)


SnapshotsDep = Annotated[SnapshotCache, Depends(get_snapshots)]

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_WRITING_READS = frozenset({"/api/v1/experiments/{key}/results"})
"""GET routes that store what they compute (experiment results are stored when computed)."""
_OWN_WRITES = frozenset({"/api/v1/checks/run"})
"""POST routes whose work outlasts a transaction (a check suite runs up to its timeouts):
the request's transaction only reads (authentication), and the service stores the result in
a short transaction of its own. A read-write one held meanwhile would, on SQLite, hold the
write lock for the whole run, and block the service's own write."""


def _is_read(request: Request) -> bool:
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    if path in _OWN_WRITES:
        return True
    return request.method in _READ_METHODS and path not in _WRITING_READS


async def database_slot(request: Request) -> AsyncIterator[None]:
    """Wait, on the event loop, for one of the ``database_concurrency`` slots before the
    request's transaction takes a pooled connection, and give it back after the commit.

    Without it, a crowd of requests larger than the pool deadlocks: each holds a connection
    while it waits for a worker thread to run its route, and every worker thread waits for a
    connection (300 concurrent requests on PostgreSQL got nothing but 503s after the pool's
    30 s timeout).
    """
    slots = getattr(request.app.state, "database_slots", None)
    if slots is None:  # an app without its lifespan: get_store says so
        yield
        return
    async with slots:
        yield


DatabaseSlot = Annotated[None, Depends(database_slot, scope="function")]


def open_transaction(
    request: Request, store: StoreDep, _slot: DatabaseSlot
) -> Iterator[UnitOfWork]:
    """The request's one transaction: read-only for GET, read-write otherwise.

    Scoped to the route function: it commits after the response body is rendered and before
    it is sent, so a request whose response fails to render changes nothing, and a client
    that got 200 knows the change is stored. Authentication shares it.
    """
    opened = store.reading() if _is_read(request) else store.unit_of_work()
    with opened as uow:
        yield uow


Transaction = Annotated[UnitOfWork, Depends(open_transaction, scope="function")]


def get_api_key(
    uow: Transaction,
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
    x_api_key: Annotated[str | None, Header(description="alternative to Bearer")] = None,
) -> ApiKey:
    """Authenticate the caller (401 ``unauthenticated`` without a valid, active key).

    ``_credentials`` only declares the Bearer scheme in the OpenAPI document (the "Authorize"
    button of /docs); the header is read here so a malformed one gets a precise message.
    """
    token = read_token(request.headers.get("authorization"), x_api_key)
    return authenticate(uow, token)


AnyKey = Annotated[ApiKey, Depends(get_api_key)]


async def require_admin(api_key: AnyKey) -> ApiKey:
    """Refuse any key but an ``admin`` one (403 ``permission_denied``; ``async`` to stay on
    the event loop: it does no I/O)."""
    authorize(api_key, ApiKeyScope.ADMIN)
    return api_key


AdminKey = Annotated[ApiKey, Depends(require_admin)]


def sdk_environment(
    api_key: AnyKey,
    environment: Annotated[
        str | None,
        Query(max_length=63, description="defaults to an sdk key's own environment"),
    ] = None,
) -> str:
    """The environment an SDK route reads or records into, once the key may use it.

    A dependency, so an sdk key of another environment gets 403 before its body is even
    validated (never a 422 that tells it about a route it may not use).

    Raises:
        ValidationError: an admin key named no environment. PermissionDenied: not its own.
    """
    target = environment or api_key.environment
    if not target:
        raise ValidationError(
            "name the environment: ?environment=<key> (admin keys may use any environment)",
            details={"path": "query.environment"},
        )
    authorize(api_key, ApiKeyScope.SDK, target)
    return target


async def _sdk_environment(
    api_key: AnyKey,
    environment: Annotated[
        str | None,
        Query(max_length=63, description="defaults to an sdk key's own environment"),
    ] = None,
) -> str:
    return sdk_environment(api_key, environment)  # on the event loop: it does no I/O


SdkEnvironment = Annotated[str, Depends(_sdk_environment)]

EnvironmentQuery = Annotated[
    str, Query(min_length=1, max_length=63, description="environment key, e.g. production")
]
IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", description='the version you read, e.g. "3" (or expected_version)'),
]


def resolve_expected_version(body_version: int | None, if_match: str | None) -> int | None:
    """Return the version a change is based on, from the body or ``If-Match`` (or ``None``).

    Raises:
        ValidationError: ``If-Match`` is not a version, or disagrees with the body.
    """
    header_version = None if if_match is None else _parse_if_match(if_match)
    if body_version is not None and header_version not in (None, body_version):
        raise ValidationError(
            f"If-Match ({header_version}) and expected_version ({body_version}) disagree",
            details={"path": "header.If-Match"},
        )
    return body_version if body_version is not None else header_version


def require_expected_version(body_version: int | None, if_match: str | None) -> int:
    """Like ``resolve_expected_version``, but a replacement must name the version it read.

    Raises:
        ValidationError: neither ``expected_version`` nor ``If-Match`` was sent.
    """
    version = resolve_expected_version(body_version, if_match)
    if version is None:
        raise ValidationError(
            "expected_version is required: send the version you read in the body"
            ' or as If-Match: "<version>"',
            details={"path": "body.expected_version"},
        )
    return version


def _parse_if_match(if_match: str) -> int:
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.isdigit() or not 1 <= int(text) <= MAX_VERSION:
        raise ValidationError(
            f'If-Match must be a flag version such as "3", got {if_match!r}',
            details={"path": "header.If-Match"},
        )
    return int(text)


def version_etag(version: int) -> str:
    """Return the ``ETag`` of a versioned resource (what ``If-Match`` should send back)."""
    return f'"{version}"'
