"""``GET /metrics``: this replica's metrics in the Prometheus text format.

Open by default, as Prometheus scrapes on an internal port; with ``RHEOSTAT_METRICS_TOKEN`` set
it wants ``Authorization: Bearer <that token>`` (API keys do not open it). Not to be confused
with ``/api/v1/client/metrics``, where SDKs send their measurements (``routers/metrics.py``).
"""

from __future__ import annotations

import hmac
from typing import Annotated

import anyio
from fastapi import APIRouter, Request, Response, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST

from rheostat import service
from rheostat.api.deps import StoreDep
from rheostat.api.telemetry import Telemetry
from rheostat.errors import ConfigurationError, RheostatError, Unauthenticated
from rheostat.service import Monitoring, SqlStore

__all__ = ["router"]

router = APIRouter(tags=["monitoring"])

metrics_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="MetricsToken",
    description="RHEOSTAT_METRICS_TOKEN, when the operator set one",
)


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus text exposition format",
            "content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}},
        },
    },
)
async def prometheus_metrics(
    request: Request,
    store: StoreDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(metrics_bearer)],
) -> Response:
    """Requests, flag documents and evaluations served, stream clients, SDK revision lag,
    release plans and backfill jobs by state, firing alerts."""
    _check_token(request, credentials)
    telemetry = getattr(request.app.state, "telemetry", None)
    if not isinstance(telemetry, Telemetry):
        raise ConfigurationError("the application has no telemetry (build it with create_app)")
    slots = getattr(request.app.state, "database_slots", None)
    if slots is None:
        monitoring = await anyio.to_thread.run_sync(_read, store)
    else:
        async with slots:
            monitoring = await anyio.to_thread.run_sync(_read, store)
    return Response(telemetry.render(monitoring), media_type=CONTENT_TYPE_LATEST)


def _check_token(request: Request, credentials: HTTPAuthorizationCredentials | None) -> None:
    expected = request.app.state.settings.metrics_token
    if expected is None:
        return
    sent = "" if credentials is None else credentials.credentials
    if not hmac.compare_digest(sent.encode(), expected.get_secret_value().encode()):
        raise Unauthenticated("GET /metrics needs 'Authorization: Bearer <RHEOSTAT_METRICS_TOKEN>'")


def _read(store: SqlStore) -> Monitoring | None:
    """The stored state, or ``None`` when the database does not answer (the scrape still
    reports the in-memory counters, and ``rheostat_database_up 0``)."""
    try:
        with store.reading() as uow:
            return service.read_monitoring(uow)
    except RheostatError:
        return None
