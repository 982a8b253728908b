"""``create_app(settings)``: the FastAPI application.

Nothing connects at import or in ``create_app``: the lifespan opens the store when the server
starts and closes it when it stops. The schema is not migrated here (``rheostat serve`` and
``rheostat migrate-db`` do that).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI

import rheostat
from rheostat import service
from rheostat.api.errors import install_error_handlers
from rheostat.api.middleware import install_middleware
from rheostat.api.routers import ROUTERS
from rheostat.api.schemas.common import ErrorResponse
from rheostat.api.stream_hub import StreamHub
from rheostat.api.telemetry import Telemetry
from rheostat.clock import Clock
from rheostat.settings import Settings
from rheostat.web import mount_dashboard

__all__ = ["create_app"]

_DESCRIPTION = """Feature flags for safe production change.

Authenticate with `Authorization: Bearer <api key>`: `admin` keys manage everything, `sdk` keys
read one environment's flags (`/api/v1/client/flags`). Every error is
`{"error": {"code", "message", "details"}}`.
"""

_ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorResponse, "description": description}
    for status, description in (
        (401, "no, unknown or revoked API key"),
        (403, "the key's scope does not allow this"),
        (404, "no such environment, flag, segment, key or version"),
        (409, "already exists, stale version, or still in use"),
        (413, "the request body is over the size limit (RHEOSTAT_MAX_BODY_BYTES)"),
        (422, "invalid request or definition; details name the field"),
        (429, "the API key is over its rate limit (RHEOSTAT_RATE_LIMIT_PER_SECOND)"),
    )
}


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """Build the application for ``settings`` (read from ``RHEOSTAT_*`` when omitted).

    Args:
        clock: the store's clock (audit times, experiment windows); the system clock by default.
    """
    resolved = settings if settings is not None else Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # scipy's import (about 1 s) at start-up, off the event loop, not in a first request
        await asyncio.to_thread(service.load_analysis)
        store = service.open_store(resolved.database_url, clock=clock)
        app.state.store = store
        app.state.database_slots = anyio.Semaphore(resolved.database_concurrency)
        app.state.snapshots = service.SnapshotCache()
        app.state.stream_keepalive_s = resolved.stream_keepalive_s
        app.state.stream_max_s = resolved.stream_max_s
        hub = StreamHub(store, app.state.snapshots, poll_interval_s=resolved.stream_poll_s)
        app.state.stream_hub = hub
        await hub.start()
        app.state.deliver_webhooks = resolved.deliver_webhooks
        try:
            yield
        finally:
            await hub.close()
            store.close()

    app = FastAPI(
        title="rheostat",
        version=rheostat.__version__,
        description=_DESCRIPTION,
        lifespan=lifespan,
        responses=_ERROR_RESPONSES,
    )
    app.state.settings = resolved
    app.state.telemetry = Telemetry(stream_clients=lambda: _stream_clients(app))
    install_middleware(app, resolved, telemetry=app.state.telemetry, clock=clock)
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    mount_dashboard(app)
    return app


def _stream_clients(app: FastAPI) -> int:
    hub = getattr(app.state, "stream_hub", None)
    return hub.client_count if isinstance(hub, StreamHub) else 0
