"""Release plan schemas: create, command, status."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from rheostat.api.schemas.common import RequestModel

__all__ = ["PlanCommandRequest", "PlanCreate", "PlanEventPublic", "PlanStatusPublic"]


class PlanCreate(RequestModel):
    """Store a plan (the document of docs/plans.md) and, unless ``start`` is false, start it."""

    document: dict[str, Any] = Field(description="a release plan document (docs/plans.md)")
    start: bool = Field(default=True, strict=True)
    reason: str | None = Field(default=None, max_length=2000)


class PlanCommandRequest(RequestModel):
    """An operator's command: why (recorded with the plan's events and the audit log)."""

    reason: str | None = Field(default=None, max_length=2000)


class PlanEventPublic(BaseModel):
    """One transition of a plan, with its evidence."""

    type: str
    stage: int
    at: datetime
    message: str
    actor: str
    evidence: dict[str, Any]


class PlanStatusPublic(BaseModel):
    """Where a plan is: ``state``, ``stage``, ``percent`` and its ``events``."""

    plan: str
    environment: str
    flag: str
    state: str
    stage: int | None = Field(description="1-based; null once past the last stage")
    stages: int
    percent: float
    holdback_percent: float
    message: str | None
    version: int
    events: list[PlanEventPublic]
