"""The migrations' table: ``migration_parity_runs``, one row per parity measurement."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from rheostat.store.base import KEY_LENGTH, ROW_ID, Base

__all__ = ["ParityRunRecord", "ParityRunRow"]


class ParityRunRow(Base):
    """``migration_parity_runs``: a migration's parity, as measured (append only); the
    report (table, groups, thresholds' verdict) as JSON."""

    __tablename__ = "migration_parity_runs"
    __table_args__ = (
        Index("ix_migration_parity_runs_migration", "environment", "migration", "id"),
    )

    id: Mapped[int] = mapped_column(ROW_ID, primary_key=True)
    environment: Mapped[str] = mapped_column(String(KEY_LENGTH))
    migration: Mapped[str] = mapped_column(String(KEY_LENGTH))
    level: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200))
    measured_at: Mapped[datetime]
    report: Mapped[dict[str, Any]]


@dataclass(frozen=True, slots=True, kw_only=True)
class ParityRunRecord:
    """A stored parity run (``id`` 0 before it is stored)."""

    id: int
    environment: str
    migration: str
    level: str
    action: str
    actor: str
    measured_at: datetime
    report: Mapping[str, Any]
