"""Check runs: append-only rows of ``check_runs``, read back as ``CheckRun`` values."""

from __future__ import annotations

import builtins
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from rheostat.checks import CheckResult, CheckRun
from rheostat.store.check_tables import CheckRunRow

__all__ = ["CheckRunRepository"]


class CheckRunRepository:
    """Adds and reads ``check_runs`` in one session."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, run: CheckRun) -> CheckRun:
        """Store the run; return it with its id."""
        row = CheckRunRow(
            suite=run.suite,
            status=run.summary.status.value,
            source=run.source,
            actor=run.actor,
            environment=run.environment,
            plan=run.plan,
            stage=run.stage,
            started_at=run.started_at,
            finished_at=run.finished_at,
            document={
                "suite": dict(run.document),
                "results": [result.to_document() for result in run.results],
            },
        )
        self._session.add(row)
        self._session.flush()
        return _run(row)

    def get(self, run_id: int) -> CheckRun | None:
        """The run, or ``None``."""
        row = self._session.get(CheckRunRow, run_id)
        return None if row is None else _run(row)

    def list(self, *, limit: int, before: int | None = None) -> builtins.list[CheckRun]:
        """The newest runs first, at most ``limit``, with ids below ``before`` when given."""
        statement = select(CheckRunRow).order_by(CheckRunRow.id.desc()).limit(limit)
        if before is not None:
            statement = statement.where(CheckRunRow.id < before)
        return [_run(row) for row in self._session.scalars(statement)]

    def latest_for_stage(
        self, environment: str, plan: str, stage: int, *, since: datetime
    ) -> CheckRun | None:
        """The newest run of a plan's stage that started at or after ``since``."""
        statement = (
            select(CheckRunRow)
            .where(
                CheckRunRow.environment == environment,
                CheckRunRow.plan == plan,
                CheckRunRow.stage == stage,
                CheckRunRow.started_at >= since,
            )
            .order_by(CheckRunRow.id.desc())
            .limit(1)
        )
        row = self._session.scalars(statement).first()
        return None if row is None else _run(row)

    def latest_for_gate(
        self, environment: str, plan: str, gate: str, *, since: datetime | None = None
    ) -> CheckRun | None:
        """The newest run of a plan's check gate (source ``plan``, no stage, the suite named
        after the gate), started at or after ``since`` when given."""
        statement = (
            select(CheckRunRow)
            .where(
                CheckRunRow.environment == environment,
                CheckRunRow.plan == plan,
                CheckRunRow.stage.is_(None),
                CheckRunRow.source == "plan",
                CheckRunRow.suite == gate,
            )
            .order_by(CheckRunRow.id.desc())
            .limit(1)
        )
        if since is not None:
            statement = statement.where(CheckRunRow.started_at >= since)
        row = self._session.scalars(statement).first()
        return None if row is None else _run(row)


def _run(row: CheckRunRow) -> CheckRun:
    document = row.document
    return CheckRun(
        id=row.id,
        suite=row.suite,
        document=document.get("suite") or {},
        results=tuple(CheckResult.from_document(item) for item in document.get("results", [])),
        source=row.source,
        actor=row.actor,
        environment=row.environment,
        plan=row.plan,
        stage=row.stage,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )
