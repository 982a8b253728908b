"""``POST /api/v1/client/heartbeat`` (SDKs report the revision they run) and
``GET /api/v1/flags/{key}/reach`` (which live SDK processes have applied a flag's change)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Security
from fastapi.security import HTTPAuthorizationCredentials

from rheostat import service
from rheostat.api.deps import AdminKey, EnvironmentQuery, StoreDep, Transaction, bearer
from rheostat.api.schemas.delivery import HeartbeatAck, HeartbeatIn, ReachPublic
from rheostat.api.sdk_access import sdk_unit

__all__ = ["router"]

router = APIRouter()


@router.post("/api/v1/client/heartbeat", tags=["sdk"])
def heartbeat(
    body: HeartbeatIn,
    request: Request,
    store: StoreDep,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
    environment: Annotated[
        str | None, Query(max_length=63, description="defaults to an sdk key's own environment")
    ] = None,
    x_api_key: Annotated[str | None, Header(description="alternative to Bearer")] = None,
) -> HeartbeatAck:
    """Record the revision an SDK process serves; answer the environment's current one.

    One short transaction in one worker thread (``sdk_unit``): after a kill every SDK
    process reports at once.
    """
    with sdk_unit(store, request, environment=environment, x_api_key=x_api_key, write=True) as (
        uow,
        target,
    ):
        revision = service.record_heartbeat(uow, target, body.to_domain())
    return HeartbeatAck(environment=target, revision=revision)


@router.get("/api/v1/flags/{key}/reach", tags=["flags"])
def flag_reach(
    key: Annotated[str, Path(min_length=1, max_length=128)],
    environment: EnvironmentQuery,
    uow: Transaction,
    _: AdminKey,
    live_within_s: Annotated[
        float, Query(gt=0, le=86_400, description="a process heard of within this is live")
    ] = 90.0,
) -> ReachPublic:
    """Which live SDK processes run the flag's latest change, which do not, and how fresh
    the proof is."""
    reach = service.flag_reach(uow, environment, key, live_within=timedelta(seconds=live_within_s))
    return ReachPublic.from_domain(reach)
