"""Query parameters that several routers share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from rheostat.api.schemas.common import MAX_VERSION

__all__ = ["ReasonQuery", "VersionPath", "VersionQuery"]

ReasonQuery = Annotated[str | None, Query(max_length=2000, description="why, for the audit log")]
VersionQuery = Annotated[
    int | None, Query(ge=1, le=MAX_VERSION, description="the version you read")
]
VersionPath = Annotated[int, Path(ge=1, le=MAX_VERSION, description="a version of the flag")]
