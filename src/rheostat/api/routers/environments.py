"""``/api/v1/environments``: CRUD, and an environment's whole document (export, import)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status

from rheostat import service
from rheostat.api.auth import actor_for
from rheostat.api.deps import (
    AdminKey,
    IfMatch,
    Transaction,
    require_expected_version,
    resolve_expected_version,
)
from rheostat.api.routers._params import ReasonQuery, VersionQuery
from rheostat.api.schemas.common import ItemList
from rheostat.api.schemas.environments import (
    EnvironmentCreate,
    EnvironmentPublic,
    EnvironmentUpdate,
)
from rheostat.api.schemas.portability import ImportRequest, ImportResultPublic

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/environments", tags=["environments"])


@router.get("")
def list_environments(uow: Transaction, _: AdminKey) -> ItemList[EnvironmentPublic]:
    """List every environment, sorted by key."""
    records = service.list_environments(uow)
    return ItemList(items=[EnvironmentPublic.from_record(record) for record in records])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_environment(
    body: EnvironmentCreate, uow: Transaction, api_key: AdminKey
) -> EnvironmentPublic:
    """Create an environment."""
    record = service.create_environment(
        uow,
        body.key,
        name=body.name,
        description=body.description,
        change=service.Change(
            actor=actor_for(api_key),
            reason=body.reason,
        ),
    )
    return EnvironmentPublic.from_record(record)


@router.get("/{environment}")
def get_environment(environment: str, uow: Transaction, _: AdminKey) -> EnvironmentPublic:
    """Return one environment."""
    return EnvironmentPublic.from_record(service.get_environment(uow, environment))


@router.patch("/{environment}")
def update_environment(
    environment: str,
    body: EnvironmentUpdate,
    uow: Transaction,
    api_key: AdminKey,
    if_match: IfMatch = None,
) -> EnvironmentPublic:
    """Change an environment's name or description (name the version you read)."""
    record = service.update_environment(
        uow,
        environment,
        name=body.name,
        description=body.description,
        change=service.Change(
            actor=actor_for(api_key),
            reason=body.reason,
            expected_version=require_expected_version(body.expected_version, if_match),
        ),
    )
    return EnvironmentPublic.from_record(record)


@router.delete("/{environment}", status_code=status.HTTP_204_NO_CONTENT)
def delete_environment(
    environment: str,
    uow: Transaction,
    api_key: AdminKey,
    expected_version: VersionQuery = None,
    reason: ReasonQuery = None,
    if_match: IfMatch = None,
) -> Response:
    """Delete an empty environment (no flags, segments or active SDK keys)."""
    service.delete_environment(
        uow,
        environment,
        change=service.Change(
            actor=actor_for(api_key),
            reason=reason,
            expected_version=resolve_expected_version(expected_version, if_match),
        ),
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{environment}/export")
def export_environment(environment: str, uow: Transaction, _: AdminKey) -> dict[str, Any]:
    """Return the environment as a native document (``version``, ``segments``, ``flags``)."""
    return service.export_flags(uow, environment)


@router.post("/{environment}/import")
def import_environment(
    environment: str, body: ImportRequest, uow: Transaction, api_key: AdminKey
) -> ImportResultPublic:
    """Load a native document: merge (keep what it does not mention) or replace."""
    result = service.import_flags(
        uow,
        environment,
        body.document,
        mode=body.mode,
        dry_run=body.dry_run,
        change=service.Change(
            actor=actor_for(api_key),
            reason=body.reason,
        ),
    )
    return ImportResultPublic.from_record(result, dry_run=body.dry_run)
