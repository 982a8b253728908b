"""Segment schemas: Create, Update, Public."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from rheostat.api.schemas.common import ChangeRequest, RequestModel
from rheostat.service import SegmentRecord, SegmentVersion

__all__ = ["SegmentCreate", "SegmentPublic", "SegmentUpdate", "SegmentVersionPublic"]

_DEFINITION_DOC = 'native segment definition: {"conditions": [...], "description": "..."}'


class SegmentCreate(RequestModel):
    """Create a segment."""

    key: str = Field(min_length=1, max_length=200, examples=["pilot-orgs"])
    definition: dict[str, Any] = Field(description=_DEFINITION_DOC)
    reason: str | None = Field(default=None, max_length=2000)


class SegmentUpdate(ChangeRequest):
    """Replace a segment's definition; name the version you read."""

    definition: dict[str, Any] = Field(description=_DEFINITION_DOC)


class SegmentPublic(BaseModel):
    """A segment as the API shows it."""

    environment: str
    key: str
    definition: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_record(cls, record: SegmentRecord) -> SegmentPublic:
        """Convert the service's value."""
        return cls(
            environment=record.environment,
            key=record.key,
            definition=dict(record.definition),
            version=record.version,
            created_at=record.created_at,
            updated_at=record.updated_at,
        )


class SegmentVersionPublic(BaseModel):
    """One entry of a segment's history: what, who, when, why."""

    environment: str
    key: str
    version: int
    definition: dict[str, Any]
    deleted: bool
    action: str
    actor: str
    reason: str | None
    created_at: datetime

    @classmethod
    def from_record(cls, record: SegmentVersion) -> SegmentVersionPublic:
        """Convert the service's value."""
        return cls(
            environment=record.environment,
            key=record.key,
            version=record.version,
            definition=dict(record.definition),
            deleted=record.deleted,
            action=str(record.action),
            actor=record.actor,
            reason=record.reason,
            created_at=record.created_at,
        )
