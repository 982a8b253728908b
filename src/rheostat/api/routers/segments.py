"""``/api/v1/segments?environment=<key>``: named, reusable condition lists."""

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
)
from rheostat.api.routers._params import ReasonQuery, VersionQuery
from rheostat.api.schemas.common import ItemList
from rheostat.api.schemas.segments import (
    SegmentCreate,
    SegmentPublic,
    SegmentUpdate,
    SegmentVersionPublic,
)

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/segments", tags=["segments"])


@router.get("")
def list_segments(
    environment: EnvironmentQuery, uow: Transaction, _: AdminKey
) -> ItemList[SegmentPublic]:
    """List the environment's segments, sorted by key."""
    records = service.list_segments(uow, environment)
    return ItemList(items=[SegmentPublic.from_record(record) for record in records])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_segment(
    environment: EnvironmentQuery, body: SegmentCreate, uow: Transaction, api_key: AdminKey
) -> SegmentPublic:
    """Create a segment."""
    record = service.create_segment(
        uow,
        environment,
        body.key,
        body.definition,
        change=service.Change(actor=actor_for(api_key), reason=body.reason),
    )
    return SegmentPublic.from_record(record)


@router.get("/{key}")
def get_segment(
    key: str, environment: EnvironmentQuery, uow: Transaction, _: AdminKey
) -> SegmentPublic:
    """Return one segment."""
    return SegmentPublic.from_record(service.get_segment(uow, environment, key))


@router.get("/{key}/history")
def segment_history(
    key: str, environment: EnvironmentQuery, uow: Transaction, _: AdminKey
) -> ItemList[SegmentVersionPublic]:
    """Every version of the segment, newest first (deleted segments included)."""
    versions = service.segment_history(uow, environment, key)
    return ItemList(items=[SegmentVersionPublic.from_record(version) for version in versions])


@router.put("/{key}")
def update_segment(
    key: str,
    environment: EnvironmentQuery,
    body: SegmentUpdate,
    uow: Transaction,
    api_key: AdminKey,
    if_match: IfMatch = None,
) -> SegmentPublic:
    """Replace a segment's definition; refused if it would break a flag that uses it."""
    record = service.update_segment(
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
    return SegmentPublic.from_record(record)


@router.delete("/{key}", status_code=status.HTTP_204_NO_CONTENT)
def delete_segment(  # noqa: PLR0913  # FastAPI injects each dependency as a parameter
    key: str,
    environment: EnvironmentQuery,
    uow: Transaction,
    api_key: AdminKey,
    expected_version: VersionQuery = None,
    reason: ReasonQuery = None,
    if_match: IfMatch = None,
) -> Response:
    """Delete a segment that no flag uses."""
    service.delete_segment(
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
