"""The backfill side's tables: jobs (status, progress, lease) and their checkpoint history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Double, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from rheostat.store.base import KEY_LENGTH, ROW_ID, Base

__all__ = ["BackfillCheckpointRow", "BackfillJobRow"]


class BackfillJobRow(Base):
    """``backfill_jobs``: one per job name; its document, status, progress and lease.

    The authoritative checkpoint lives in the target database, written in each batch's own
    transaction; this row mirrors it after the commit, for status pages and the API.
    """

    __tablename__ = "backfill_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(KEY_LENGTH), unique=True)
    document: Mapped[dict[str, Any]]
    fingerprint: Mapped[str] = mapped_column(String(64))
    strategy: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32))
    rows_done: Mapped[int] = mapped_column(BigInteger)
    rows_total: Mapped[int | None] = mapped_column(BigInteger)
    batches: Mapped[int] = mapped_column(BigInteger)
    batch_size: Mapped[int] = mapped_column(Integer)
    rows_per_second: Mapped[float] = mapped_column(Double)
    eta_seconds: Mapped[float | None] = mapped_column(Double)
    last_key: Mapped[str | None] = mapped_column(Text)
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    verify: Mapped[dict[str, Any] | None]
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class BackfillCheckpointRow(Base):
    """``backfill_checkpoints``: each committed batch of a job (append only)."""

    __tablename__ = "backfill_checkpoints"

    id: Mapped[int] = mapped_column(ROW_ID, primary_key=True)
    job_id: Mapped[int] = mapped_column(
        ForeignKey("backfill_jobs.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime]
    worker: Mapped[str] = mapped_column(String(200))
    last_key: Mapped[str | None] = mapped_column(Text)
    rows_done: Mapped[int] = mapped_column(BigInteger)
    batch_rows: Mapped[int] = mapped_column(Integer)
    batch_size: Mapped[int] = mapped_column(Integer)
    batch_seconds: Mapped[float] = mapped_column(Double)
