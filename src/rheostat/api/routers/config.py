"""``/api/v1/config/flags``: every flag with its state and rollout (``make rollout-status``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from rheostat import service
from rheostat.api.deps import AdminKey, Transaction
from rheostat.api.schemas.status import FlagSummaryList, FlagSummaryPublic

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/config", tags=["status"])


@router.get("/flags")
def flag_summaries(
    uow: Transaction,
    _: AdminKey,
    environment: Annotated[str | None, Query(description="only this environment")] = None,
) -> FlagSummaryList:
    """Every flag of every environment (or of one) with its state and rollout percentage."""
    rows = service.flag_summaries(uow, environment)
    return FlagSummaryList(flags=[FlagSummaryPublic.from_record(row) for row in rows])
