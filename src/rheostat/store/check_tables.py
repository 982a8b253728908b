"""The checks' table: ``check_runs``, one row per run of a suite, its results as JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from rheostat.store.base import KEY_LENGTH, ROW_ID, Base

__all__ = ["CheckRunRow"]


class CheckRunRow(Base):
    """``check_runs``: a suite's run: who ran it, its status, and (``document``) the suite as
    it ran with every check's result. A plan's ``check`` stage names its plan and stage, so the
    next tick finds the verdict; a plan's check gate names its plan, no stage, and the gate
    as its ``suite``."""

    __tablename__ = "check_runs"
    __table_args__ = (Index("ix_check_runs_plan_stage", "environment", "plan", "stage"),)

    id: Mapped[int] = mapped_column(ROW_ID, primary_key=True)
    suite: Mapped[str] = mapped_column(String(KEY_LENGTH))
    status: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(200))
    environment: Mapped[str | None] = mapped_column(String(KEY_LENGTH))
    plan: Mapped[str | None] = mapped_column(String(KEY_LENGTH))
    stage: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(index=True)
    finished_at: Mapped[datetime]
    document: Mapped[dict[str, Any]]
