"""``/health``: database reachability and the kill switches engaged; no key needed.

``200`` while the service can answer (``healthy``, or ``degraded`` when the schema is behind
the code); ``503`` when it cannot (``unhealthy``: the database does not answer), so a load
balancer takes the replica out of rotation.
"""

from __future__ import annotations

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse

from rheostat import service
from rheostat.api.deps import StoreDep
from rheostat.api.schemas.status import HealthPublic
from rheostat.service import HealthStatus

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    response_model=HealthPublic,
    responses={503: {"model": HealthPublic, "description": "unhealthy: the database is down"}},
)
def health(store: StoreDep) -> JSONResponse:
    """Report status, the database check and every kill switch engaged."""
    report = service.check_health(store)
    code = (
        status.HTTP_503_SERVICE_UNAVAILABLE
        if report.status is HealthStatus.UNHEALTHY
        else status.HTTP_200_OK
    )
    body = HealthPublic.from_record(report).model_dump(mode="json")
    return JSONResponse(body, status_code=code)
