"""Rollbacks of flags: their history, and the gradual ones still stepping down."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rheostat.errors import NotFound
from rheostat.store.operations_records import RollbackMode, RollbackRecord, RollbackStatus
from rheostat.store.operations_tables import RollbackRow

__all__ = ["RollbackRepository"]

_MAX_HISTORY = 1000


class RollbackRepository:
    """Reads and writes ``rollbacks`` in one session."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, record: RollbackRecord) -> RollbackRecord:
        """Insert ``record`` (its ``id`` is ignored) and return it with its id."""
        row = RollbackRow(
            environment=record.environment,
            flag=record.flag,
            mode=record.mode.value,
            status=record.status.value,
            actor=record.actor,
            reason=record.reason,
            started_at=record.started_at,
            finished_at=record.finished_at,
            next_step_at=record.next_step_at,
            flag_version=record.flag_version,
            details=dict(record.details),
        )
        self._session.add(row)
        self._session.flush()
        return _record(row)

    def get(self, rollback_id: int, *, lock: bool = False) -> RollbackRecord:
        """Return the rollback (its row locked until commit with ``lock``). Raises ``NotFound``."""
        statement = select(RollbackRow).where(RollbackRow.id == rollback_id)
        if lock:
            statement = statement.with_for_update()
        row = self._session.scalar(statement)
        if row is None:
            raise NotFound(
                f"rollback {rollback_id} does not exist", details={"rollback": rollback_id}
            )
        return _record(row)

    def update(self, rollback_id: int, **changes: Any) -> RollbackRecord:
        """Change the named columns (``status`` and ``mode`` as enums or text)."""
        row = self._session.get_one(RollbackRow, rollback_id)
        for name, value in changes.items():
            if name == "details":
                value = dict(value)
            elif name == "status":
                value = RollbackStatus(value).value
            setattr(row, name, value)
        self._session.flush()
        return _record(row)

    def running(self, environment: str, flag: str) -> builtins.list[RollbackRecord]:
        """The flag's gradual rollbacks still stepping down, oldest first."""
        rows = self._session.scalars(
            select(RollbackRow)
            .where(
                RollbackRow.environment == environment,
                RollbackRow.flag == flag,
                RollbackRow.status == RollbackStatus.RUNNING.value,
            )
            .order_by(RollbackRow.id)
            .with_for_update()
        )
        return [_record(row) for row in rows]

    def due(self, now: datetime) -> builtins.list[int]:
        """Ids of running rollbacks whose next step is due at ``now``, oldest first."""
        return list(
            self._session.scalars(
                select(RollbackRow.id)
                .where(
                    RollbackRow.status == RollbackStatus.RUNNING.value,
                    RollbackRow.next_step_at <= now,
                )
                .order_by(RollbackRow.next_step_at, RollbackRow.id)
            )
        )

    def count_running(self) -> int:
        """How many gradual rollbacks are stepping down."""
        return len(
            list(
                self._session.scalars(
                    select(RollbackRow.id).where(RollbackRow.status == RollbackStatus.RUNNING.value)
                )
            )
        )

    def history(self, environment: str, flag: str) -> builtins.list[RollbackRecord]:
        """The flag's rollbacks, newest first."""
        rows = self._session.scalars(
            select(RollbackRow)
            .where(RollbackRow.environment == environment, RollbackRow.flag == flag)
            .order_by(RollbackRow.id.desc())
            .limit(_MAX_HISTORY)
        )
        return [_record(row) for row in rows]


def _record(row: RollbackRow) -> RollbackRecord:
    details: Mapping[str, Any] = dict(row.details)
    return RollbackRecord(
        id=row.id,
        environment=row.environment,
        flag=row.flag,
        mode=RollbackMode(row.mode),
        status=RollbackStatus(row.status),
        actor=row.actor,
        reason=row.reason,
        started_at=row.started_at,
        finished_at=row.finished_at,
        next_step_at=row.next_step_at,
        flag_version=row.flag_version,
        details=details,
    )
