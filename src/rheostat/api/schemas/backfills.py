"""Backfill schemas: a job's status and progress, with its newest checkpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

__all__ = ["BackfillCheckpointPublic", "BackfillDetailPublic", "BackfillStatusPublic"]


class BackfillStatusPublic(BaseModel):
    """A backfill job as rheostat's store knows it (mirrored after each committed batch)."""

    name: str
    status: str = Field(
        description="pending, running, pausing, paused, stopped, completed or failed"
    )
    strategy: str = Field(description="server_side or streamed")
    rows_done: int
    rows_total: int | None
    percent: float | None
    rows_per_second: float
    eta_seconds: float | None
    batches: int
    batch_size: int
    last_key: str | None = Field(description="JSON of the last committed key")
    worker: str | None = Field(description="who holds the lease while it runs")
    lease_expires_at: datetime | None
    error: str | None
    verify: dict[str, Any] | None = Field(description="the last verify pass")
    verified: bool = Field(description="the last verify found zero differences")
    fingerprint: str
    version: int
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class BackfillCheckpointPublic(BaseModel):
    """One committed batch."""

    at: datetime
    worker: str
    last_key: str | None
    rows_done: int
    batch_rows: int
    batch_size: int
    batch_seconds: float


class BackfillDetailPublic(BackfillStatusPublic):
    """A job's status with its newest checkpoints, newest first."""

    checkpoints: list[BackfillCheckpointPublic]
