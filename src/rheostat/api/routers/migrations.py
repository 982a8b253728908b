"""``/api/v1/migrations``: table migrations' parity runs (recorded by ``rheostat migrate
parity --record``): each migration's newest, and one migration's history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from rheostat import service
from rheostat.api.deps import AdminKey, EnvironmentQuery, Transaction
from rheostat.api.schemas.common import ItemList
from rheostat.api.schemas.migrations import ParityRunPublic

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/migrations", tags=["migrations"])


@router.get("")
def list_migrations(
    uow: Transaction,
    _: AdminKey,
    environment: Annotated[str | None, Query(min_length=1, max_length=63)] = None,
) -> ItemList[ParityRunPublic]:
    """Each migration's newest parity run (what ``/health`` shows), by environment and name."""
    runs = service.latest_parity_runs(uow)
    return ItemList(
        items=[
            ParityRunPublic.from_record(run, groups=False)
            for run in runs
            if environment is None or run.environment == environment
        ]
    )


@router.get("/{migration}/parity")
def list_parity_runs(
    migration: Annotated[str, Path(min_length=1, max_length=100)],
    environment: EnvironmentQuery,
    uow: Transaction,
    _: AdminKey,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
) -> ItemList[ParityRunPublic]:
    """One migration's parity runs in an environment, newest first, with their groups."""
    runs = service.list_parity_runs(uow, environment, migration, limit=limit)
    return ItemList(items=[ParityRunPublic.from_record(run) for run in runs])
