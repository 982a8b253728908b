"""``/api/v1/flags``: a flag's definition, its history, and restoring an old version.

Every route names the environment with ``?environment=<key>``. Responses that return a flag
carry ``ETag: "<version>"``; send it back as ``If-Match`` (or ``expected_version``) to update.
"""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from rheostat import service
from rheostat.api.auth import actor_for
from rheostat.api.deps import (
    AdminKey,
    EnvironmentQuery,
    IfMatch,
    Transaction,
    require_expected_version,
    resolve_expected_version,
    version_etag,
)
from rheostat.api.routers._params import ReasonQuery, VersionPath, VersionQuery
from rheostat.api.schemas.common import ItemList
from rheostat.api.schemas.flags import (
    FlagCreate,
    FlagPublic,
    FlagStatsPublic,
    FlagUpdate,
    FlagVersionPublic,
    RestoreRequest,
)
from rheostat.service import FlagRecord

__all__ = ["flag_response", "router"]

router = APIRouter(prefix="/api/v1/flags", tags=["flags"])


def flag_response(record: FlagRecord, response: Response) -> FlagPublic:
    """Return the flag's public form and put its version in the ``ETag`` header."""
    response.headers["ETag"] = version_etag(record.version)
    return FlagPublic.from_record(record)


@router.get("")
def list_flags(
    environment: EnvironmentQuery, uow: Transaction, _: AdminKey
) -> ItemList[FlagPublic]:
    """List the environment's flags, sorted by key."""
    records = service.list_flags(uow, environment)
    return ItemList(items=[FlagPublic.from_record(record) for record in records])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_flag(
    environment: EnvironmentQuery,
    body: FlagCreate,
    uow: Transaction,
    api_key: AdminKey,
    response: Response,
) -> FlagPublic:
    """Create a flag at version 1 (a deleted flag's history continues)."""
    record = service.create_flag(
        uow,
        environment,
        body.key,
        body.definition,
        change=service.Change(actor=actor_for(api_key), reason=body.reason),
    )
    return flag_response(record, response)


@router.get("/{key}")
def get_flag(
    key: str, environment: EnvironmentQuery, uow: Transaction, _: AdminKey, response: Response
) -> FlagPublic:
    """Return a flag's current definition and version."""
    return flag_response(service.get_flag(uow, environment, key), response)


@router.put("/{key}")
def update_flag(  # noqa: PLR0913  # FastAPI injects each dependency as a parameter
    key: str,
    environment: EnvironmentQuery,
    body: FlagUpdate,
    uow: Transaction,
    api_key: AdminKey,
    response: Response,
    if_match: IfMatch = None,
) -> FlagPublic:
    """Replace a flag's definition; a stale ``expected_version`` gets 409 ``conflict``."""
    record = service.update_flag(
        uow,
        environment,
        key,
        body.definition,
        change=service.Change(
            actor=actor_for(api_key),
            reason=body.reason,
            expected_version=require_expected_version(body.expected_version, if_match),
        ),
    )
    return flag_response(record, response)


@router.delete("/{key}", status_code=status.HTTP_204_NO_CONTENT)
def delete_flag(  # noqa: PLR0913  # FastAPI injects each dependency as a parameter
    key: str,
    environment: EnvironmentQuery,
    uow: Transaction,
    api_key: AdminKey,
    expected_version: VersionQuery = None,
    reason: ReasonQuery = None,
    if_match: IfMatch = None,
) -> Response:
    """Delete a flag; its history is kept and it can be restored."""
    service.delete_flag(
        uow,
        environment,
        key,
        change=service.Change(
            actor=actor_for(api_key),
            reason=reason,
            expected_version=resolve_expected_version(expected_version, if_match),
        ),
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{key}/history")
def flag_history(
    key: str, environment: EnvironmentQuery, uow: Transaction, _: AdminKey
) -> ItemList[FlagVersionPublic]:
    """Every version of the flag, newest first: what, who, when and why."""
    versions = service.flag_history(uow, environment, key)
    return ItemList(items=[FlagVersionPublic.from_record(version) for version in versions])


@router.get("/{key}/versions/{version}")
def get_flag_version(
    key: str, version: VersionPath, environment: EnvironmentQuery, uow: Transaction, _: AdminKey
) -> FlagVersionPublic:
    """One version of the flag's history."""
    record = service.get_flag_version(uow, environment, key, version)
    return FlagVersionPublic.from_record(record)


@router.post("/{key}/restore")
def restore_flag(  # noqa: PLR0913  # FastAPI injects each dependency as a parameter
    key: str,
    environment: EnvironmentQuery,
    body: RestoreRequest,
    uow: Transaction,
    api_key: AdminKey,
    response: Response,
    if_match: IfMatch = None,
) -> FlagPublic:
    """Write a new version equal to ``version`` (restores deleted flags too).

    The version the caller read is required (``expected_version`` or ``If-Match``), as for PUT.
    """
    record = service.restore_flag(
        uow,
        environment,
        key,
        body.version,
        change=service.Change(
            actor=actor_for(api_key),
            reason=body.reason,
            expected_version=require_expected_version(body.expected_version, if_match),
        ),
    )
    return flag_response(record, response)


@router.get("/{key}/stats")
def flag_stats(
    key: str, environment: EnvironmentQuery, uow: Transaction, _: AdminKey
) -> FlagStatsPublic:
    """State, rollout share, targeting counts and history size of a flag."""
    return FlagStatsPublic.from_record(service.flag_stats(uow, environment, key))
