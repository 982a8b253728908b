"""Check suites sent to the API, and the check runs it answers with."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from rheostat.api.schemas.common import RequestModel
from rheostat.checks import CheckRun

__all__ = [
    "CheckResultPublic",
    "CheckRunList",
    "CheckRunPublic",
    "CheckSummaryPublic",
    "SuiteRequest",
]


class SuiteRequest(RequestModel):
    """A suite document (docs/checks.md). Over HTTP only checks of rheostat's own database
    run, unless the server's ``RHEOSTAT_CHECKS_API_KINDS`` allows more kinds; ``${VAR}`` is
    not expanded."""

    suite: str | None = Field(default=None, max_length=128, description="the suite's name")
    timeout: float | str | None = Field(
        default=None, description="default timeout of each check: seconds or '30s'"
    )
    database: str | None = Field(
        default=None, max_length=2000, description="default url of the database kinds"
    )
    checks: list[dict[str, Any]] = Field(
        min_length=1, max_length=200, description="the checks: {kind, name, ...its fields}"
    )


class CheckResultPublic(BaseModel):
    """One check's result."""

    name: str
    kind: str
    status: str = Field(description="pass, warn or fail")
    message: str
    evidence: dict[str, Any]
    duration_seconds: float
    error: str | None = Field(description="timeout or crash when the check itself broke")


class CheckSummaryPublic(BaseModel):
    """What a run adds up to."""

    status: str
    passed: int
    warned: int
    failed: int
    total: int


class CheckRunPublic(BaseModel):
    """A stored run of a suite."""

    id: int
    suite: str
    status: str = Field(description="the worst result: pass, warn or fail")
    summary: CheckSummaryPublic
    results: list[CheckResultPublic]
    source: str = Field(description="cli, api, plan or python")
    actor: str
    environment: str | None
    plan: str | None
    stage: int | None = Field(description="1-based stage of the plan that ran it")
    started_at: datetime
    finished_at: datetime

    @classmethod
    def from_run(cls, run: CheckRun) -> CheckRunPublic:
        """The API's form of a run."""
        return cls.model_validate(run.to_document())


class CheckRunList(BaseModel):
    """Runs, newest first; pass ``next_before_id`` back as ``before_id`` for older ones."""

    items: list[CheckRunPublic]
    next_before_id: int | None
