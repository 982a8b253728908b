"""Parity runs: append-only rows of ``migration_parity_runs``."""

from __future__ import annotations

import builtins

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rheostat.store.migration_tables import ParityRunRecord, ParityRunRow

__all__ = ["ParityRunRepository"]


class ParityRunRepository:
    """Adds and reads parity runs in one session."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, run: ParityRunRecord) -> ParityRunRecord:
        """Store the run; return it with its id."""
        row = ParityRunRow(
            environment=run.environment,
            migration=run.migration,
            level=run.level,
            action=run.action,
            actor=run.actor,
            measured_at=run.measured_at,
            report=dict(run.report),
        )
        self._session.add(row)
        self._session.flush()
        return _record(row)

    def list(
        self, environment: str, migration: str | None = None, *, limit: int
    ) -> builtins.list[ParityRunRecord]:
        """The environment's runs (of one migration, when given), newest first."""
        statement = (
            select(ParityRunRow)
            .where(ParityRunRow.environment == environment)
            .order_by(ParityRunRow.id.desc())
            .limit(limit)
        )
        if migration is not None:
            statement = statement.where(ParityRunRow.migration == migration)
        return [_record(row) for row in self._session.scalars(statement)]

    def latest(self, *, limit: int) -> builtins.list[ParityRunRecord]:
        """The newest run of each (environment, migration), by environment and name."""
        newest = (
            select(func.max(ParityRunRow.id))
            .group_by(ParityRunRow.environment, ParityRunRow.migration)
            .scalar_subquery()
        )
        statement = (
            select(ParityRunRow)
            .where(ParityRunRow.id.in_(newest))
            .order_by(ParityRunRow.environment, ParityRunRow.migration)
            .limit(limit)
        )
        return [_record(row) for row in self._session.scalars(statement)]


def _record(row: ParityRunRow) -> ParityRunRecord:
    return ParityRunRecord(
        id=row.id,
        environment=row.environment,
        migration=row.migration,
        level=row.level,
        action=row.action,
        actor=row.actor,
        measured_at=row.measured_at,
        report=row.report,
    )
