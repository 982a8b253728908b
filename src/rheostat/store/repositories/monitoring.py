"""Counts for ``GET /metrics``: a few grouped queries over whole tables, read at scrape time."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from rheostat.store.tables import (
    AlertRow,
    BackfillJobRow,
    EnvironmentRow,
    ReleasePlanRow,
    SdkProcessRow,
)

__all__ = ["EnvironmentDelivery", "MonitoringRepository"]


@dataclass(frozen=True, slots=True, kw_only=True)
class EnvironmentDelivery:
    """One environment's revision against what its live SDK processes report.

    Attributes:
        revision: the environment's current revision.
        live: SDK processes heard of since the liveness cut-off.
        behind: those of them that report a revision below ``revision``.
        oldest_live_revision: the lowest revision a live process reports (``None``: none live).
    """

    environment: str
    revision: int
    live: int
    behind: int
    oldest_live_revision: int | None


class MonitoringRepository:
    """Aggregate reads only; nothing here writes."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def plan_phases(self) -> dict[str, int]:
        """Release plans per phase (phases without plans are absent)."""
        rows = self._session.execute(
            select(ReleasePlanRow.phase, func.count()).group_by(ReleasePlanRow.phase)
        )
        return {str(phase): int(count) for phase, count in rows}

    def backfill_statuses(self) -> dict[str, int]:
        """Backfill jobs per status (statuses without jobs are absent)."""
        rows = self._session.execute(
            select(BackfillJobRow.status, func.count()).group_by(BackfillJobRow.status)
        )
        return {str(status): int(count) for status, count in rows}

    def firing_alerts(self, firing: str) -> dict[str, int]:
        """Alerts whose status is ``firing``, per severity."""
        rows = self._session.execute(
            select(AlertRow.severity, func.count())
            .where(AlertRow.status == firing)
            .group_by(AlertRow.severity)
        )
        return {str(severity): int(count) for severity, count in rows}

    def delivery(self, live_since: datetime) -> builtins.list[EnvironmentDelivery]:
        """Every environment, with its SDK processes heard of at or after ``live_since``."""
        live = and_(
            SdkProcessRow.environment_id == EnvironmentRow.id,
            SdkProcessRow.last_seen_at >= live_since,
        )
        rows = self._session.execute(
            select(
                EnvironmentRow.key,
                EnvironmentRow.revision,
                func.count(SdkProcessRow.id),
                func.sum(case((SdkProcessRow.revision < EnvironmentRow.revision, 1), else_=0)),
                func.min(SdkProcessRow.revision),
            )
            .outerjoin(SdkProcessRow, live)
            .group_by(EnvironmentRow.id, EnvironmentRow.key, EnvironmentRow.revision)
            .order_by(EnvironmentRow.key)
        )
        return [
            EnvironmentDelivery(
                environment=key,
                revision=int(revision),
                live=int(count),
                behind=int(behind or 0),
                oldest_live_revision=None if oldest is None else int(oldest),
            )
            for key, revision, count, behind, oldest in rows
        ]
