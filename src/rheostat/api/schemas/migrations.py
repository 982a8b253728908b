"""Table migrations' parity runs on the wire."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from rheostat.service import ParityRunRecord

__all__ = ["ParityRunPublic"]


class ParityRunPublic(BaseModel):
    """One parity run: the table's and each group's counts and checksums, judged."""

    id: int
    environment: str
    migration: str
    measured_at: datetime
    actor: str
    level: str = Field(description="ok, drift, warning or critical (the worst part)")
    action: str = Field(description="continue, monitor, investigate, rollback_groups or rollback")
    synced: bool = Field(description="zero delta and equal checksums everywhere")
    row_delta: int = Field(description="the table's new rows minus old rows")
    worst_group_delta: int
    checksum_mismatches: int
    critical_groups: list[str]
    group_by: str | None
    table: dict[str, Any] | None = Field(
        default=None, description="old_rows, new_rows, row_delta, checksum_matches, level"
    )
    groups: list[dict[str, Any]] = Field(
        default_factory=list, description="each group, worst first (at most 100 kept)"
    )

    @classmethod
    def from_record(cls, run: ParityRunRecord, *, groups: bool = True) -> ParityRunPublic:
        """Convert a stored run (without its table and groups when ``groups`` is false)."""
        report = dict(run.report)
        return cls(
            id=run.id,
            environment=run.environment,
            migration=run.migration,
            measured_at=run.measured_at,
            actor=run.actor,
            level=run.level,
            action=run.action,
            synced=bool(report.get("synced", False)),
            row_delta=int(report.get("row_delta", 0)),
            worst_group_delta=int(report.get("worst_group_delta", 0)),
            checksum_mismatches=int(report.get("checksum_mismatches", 0)),
            critical_groups=[str(g) for g in report.get("critical_groups", [])],
            group_by=report.get("group_by"),
            table=report.get("table") if groups else None,
            groups=list(report.get("groups", [])) if groups else [],
        )
