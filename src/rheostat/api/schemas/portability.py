"""Import and export schemas."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from rheostat.api.schemas.common import RequestModel
from rheostat.service import ImportMode, ImportResult

__all__ = ["ImportRequest", "ImportResultPublic"]


class ImportRequest(RequestModel):
    """Load a native document into an environment: all of it or nothing."""

    document: dict[str, Any] = Field(description="native document: version, segments, flags")
    mode: ImportMode = ImportMode.MERGE
    dry_run: bool = Field(default=False, strict=True)
    reason: str | None = Field(default=None, max_length=2000)


class ImportResultPublic(BaseModel):
    """What an import changed (or would change, for a dry run)."""

    dry_run: bool
    changed: bool
    created: list[str]
    updated: list[str]
    unchanged: list[str]
    deleted: list[str]
    segments_created: list[str]
    segments_updated: list[str]
    segments_deleted: list[str]

    @classmethod
    def from_record(cls, result: ImportResult, *, dry_run: bool) -> ImportResultPublic:
        """Convert the service's value."""
        return cls(
            dry_run=dry_run,
            changed=result.changed,
            created=list(result.created),
            updated=list(result.updated),
            unchanged=list(result.unchanged),
            deleted=list(result.deleted),
            segments_created=list(result.segments_created),
            segments_updated=list(result.segments_updated),
            segments_deleted=list(result.segments_deleted),
        )
