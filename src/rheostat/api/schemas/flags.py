"""Flag schemas: Create, Update, Public, history versions and the targeted changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from rheostat.api.schemas.common import MAX_VERSION, ChangeRequest, RequestModel
from rheostat.service import FlagRecord, FlagStats, FlagVersion

__all__ = [
    "FlagCreate",
    "FlagPublic",
    "FlagStatsPublic",
    "FlagUpdate",
    "FlagVersionPublic",
    "KillRequest",
    "RestoreRequest",
    "RolloutChange",
    "TargetsChange",
]

_DEFINITION_DOC = (
    "native flag definition (description, enabled, variants, default, targets, rules...);"
    " {} is a bool flag that is off for everyone"
)


class FlagCreate(RequestModel):
    """Create a flag at version 1."""

    key: str = Field(min_length=1, max_length=200, examples=["new-checkout"])
    definition: dict[str, Any] = Field(default_factory=dict, description=_DEFINITION_DOC)
    reason: str | None = Field(default=None, max_length=2000)


class FlagUpdate(ChangeRequest):
    """Replace a flag's definition; name the version you read (here or in ``If-Match``)."""

    definition: dict[str, Any] = Field(description=_DEFINITION_DOC)


class KillRequest(RequestModel):
    """Engage the kill switch; never refused for a stale version."""

    reason: str | None = Field(default=None, max_length=2000)


class RolloutChange(ChangeRequest):
    """Serve a bool flag's "on" variant to ``percent`` % of contexts."""

    percent: float = Field(ge=0, le=100, strict=True, examples=[12.5])


class TargetsChange(ChangeRequest):
    """User keys and groups to add to (or remove from) a flag's allow-list."""

    users: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    variant: str | None = Field(
        default=None, description="variant to serve (adding only); the bool flag's on variant"
    )


class RestoreRequest(ChangeRequest):
    """Write a new version equal to an old one."""

    version: int = Field(ge=1, le=MAX_VERSION, strict=True)


class FlagPublic(BaseModel):
    """The current state of one flag in one environment."""

    environment: str
    key: str
    enabled: bool
    description: str
    definition: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_record(cls, record: FlagRecord) -> FlagPublic:
        """Convert the service's value."""
        return cls(
            environment=record.environment,
            key=record.key,
            enabled=record.enabled,
            description=record.description,
            definition=dict(record.definition),
            version=record.version,
            created_at=record.created_at,
            updated_at=record.updated_at,
        )


class FlagVersionPublic(BaseModel):
    """One entry of a flag's history: what, who, when, why."""

    environment: str
    key: str
    version: int
    definition: dict[str, Any]
    deleted: bool
    action: str
    actor: str
    reason: str | None
    created_at: datetime
    segments: dict[str, int] | None = Field(
        default=None,
        description="versions of the segments it tested, brought back by a restore"
        " (null for versions older than segment history)",
    )

    @classmethod
    def from_record(cls, record: FlagVersion) -> FlagVersionPublic:
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
            segments=None if record.segments is None else dict(record.segments),
        )


class FlagStatsPublic(BaseModel):
    """State, rollout share, targeting counts and history size of a flag."""

    environment: str
    key: str
    state: str
    enabled: bool
    rollout_percent: float | None
    version: int
    versions: int
    targeted_users: int
    targeted_groups: int
    rules: int
    created_at: datetime
    updated_at: datetime
    last_changed_by: str

    @classmethod
    def from_record(cls, stats: FlagStats) -> FlagStatsPublic:
        """Convert the service's value."""
        return cls(
            environment=stats.environment,
            key=stats.key,
            state=str(stats.state),
            enabled=stats.enabled,
            rollout_percent=stats.rollout_percent,
            version=stats.version,
            versions=stats.versions,
            targeted_users=stats.targeted_users,
            targeted_groups=stats.targeted_groups,
            rules=stats.rules,
            created_at=stats.created_at,
            updated_at=stats.updated_at,
            last_changed_by=stats.last_changed_by,
        )
