"""``/api/v1/backfills``: backfill jobs, their status and progress (admin scope).

Jobs are run by ``rheostat backfill run`` (or a release plan); the API reads what they mirror
into the store after each committed batch.
"""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter

from rheostat import service
from rheostat.api.deps import AdminKey, Transaction
from rheostat.api.schemas.backfills import (
    BackfillCheckpointPublic,
    BackfillDetailPublic,
    BackfillStatusPublic,
)
from rheostat.api.schemas.common import ItemList

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/backfills", tags=["backfills"])

_CHECKPOINTS = 20


@router.get("")
def list_backfills(uow: Transaction, _: AdminKey) -> ItemList[BackfillStatusPublic]:
    """Every backfill job, sorted by name, with its status and progress."""
    return ItemList(
        items=[
            BackfillStatusPublic.model_validate(service.backfill_status_document(record))
            for record in service.list_backfills(uow)
        ]
    )


@router.get("/{name}")
def backfill_status(name: str, uow: Transaction, _: AdminKey) -> BackfillDetailPublic:
    """One job: status, rows done, rows/s, ETA, last verify and its newest checkpoints."""
    record = service.get_backfill(uow, name)
    checkpoints = service.backfill_checkpoints(uow, name, limit=_CHECKPOINTS)
    return BackfillDetailPublic.model_validate(
        {
            **service.backfill_status_document(record),
            "checkpoints": [
                BackfillCheckpointPublic.model_validate(asdict(c)) for c in checkpoints
            ],
        }
    )
