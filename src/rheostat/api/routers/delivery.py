"""``POST /api/v1/client/heartbeat`` (SDKs report the revision they run) and
``GET /api/v1/flags/{key}/reach`` (which live SDK processes have applied a flag's change)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query

from rheostat import service
from rheostat.api.deps import AdminKey, EnvironmentQuery, SdkEnvironment, Transaction
from rheostat.api.schemas.delivery import HeartbeatAck, HeartbeatIn, ReachPublic

__all__ = ["router"]

router = APIRouter()


@router.post("/api/v1/client/heartbeat", tags=["sdk"])
def heartbeat(body: HeartbeatIn, uow: Transaction, environment: SdkEnvironment) -> HeartbeatAck:
    """Record the revision an SDK process serves; answer the environment's current one."""
    revision = service.record_heartbeat(uow, environment, body.to_domain())
    return HeartbeatAck(environment=environment, revision=revision)


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
