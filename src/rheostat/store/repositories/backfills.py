"""Backfill jobs (status, progress, lease) and their append-only checkpoint history."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rheostat.errors import AlreadyExists, NotFound
from rheostat.store.records import BackfillCheckpoint, BackfillRecord
from rheostat.store.tables import BackfillCheckpointRow, BackfillJobRow

__all__ = ["BackfillRepository"]

_FIELDS = (
    "status",
    "rows_done",
    "rows_total",
    "batches",
    "batch_size",
    "rows_per_second",
    "eta_seconds",
    "last_key",
    "lease_owner",
    "lease_expires_at",
    "error",
    "verify",
    "started_at",
    "finished_at",
    "document",
    "fingerprint",
    "strategy",
)


class BackfillRepository:
    """Reads and writes ``backfill_jobs`` and ``backfill_checkpoints`` in one session."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(
        self,
        name: str,
        *,
        document: Mapping[str, Any],
        fingerprint: str,
        strategy: str,
        batch_size: int,
        at: datetime,
    ) -> BackfillRecord:
        """Store a new job, ``pending``. Raises ``AlreadyExists``."""
        row = BackfillJobRow(
            name=name,
            document=dict(document),
            fingerprint=fingerprint,
            strategy=strategy,
            status="pending",
            rows_done=0,
            rows_total=None,
            batches=0,
            batch_size=batch_size,
            rows_per_second=0.0,
            eta_seconds=None,
            last_key=None,
            lease_owner=None,
            lease_expires_at=None,
            error=None,
            verify=None,
            version=1,
            created_at=at,
            updated_at=at,
            started_at=None,
            finished_at=None,
        )
        self._session.add(row)
        try:
            self._session.flush()
        except IntegrityError as error:
            raise AlreadyExists(
                f"backfill {name!r} already exists", details={"backfill": name}
            ) from error
        return _record(row)

    def find(self, name: str, *, lock: bool = False) -> BackfillRecord | None:
        """Return the job, or ``None``; ``lock`` holds its row until commit."""
        row = self._row(name, lock=lock)
        return None if row is None else _record(row)

    def list(self) -> builtins.list[BackfillRecord]:
        """Every job, sorted by name."""
        rows = self._session.scalars(select(BackfillJobRow).order_by(BackfillJobRow.name))
        return [_record(row) for row in rows]

    def update(self, name: str, *, at: datetime, **changes: Any) -> BackfillRecord:
        """Change the named fields of the job and raise its version."""
        row = self._row(name, lock=False)
        if row is None:
            raise NotFound(f"no backfill named {name!r}", details={"backfill": name})
        for field, value in changes.items():
            if field not in _FIELDS:
                raise TypeError(f"not a backfill field: {field}")
            setattr(row, field, dict(value) if isinstance(value, Mapping) else value)
        row.version += 1
        row.updated_at = at
        self._session.flush()
        return _record(row)

    def add_checkpoint(self, checkpoint: BackfillCheckpoint) -> None:
        """Append one committed batch to the job's history."""
        row = self._row(checkpoint.job, lock=False)
        if row is None:
            raise NotFound(f"no backfill named {checkpoint.job!r}")
        self._session.add(
            BackfillCheckpointRow(
                job_id=row.id,
                at=checkpoint.at,
                worker=checkpoint.worker,
                last_key=checkpoint.last_key,
                rows_done=checkpoint.rows_done,
                batch_rows=checkpoint.batch_rows,
                batch_size=checkpoint.batch_size,
                batch_seconds=checkpoint.batch_seconds,
            )
        )
        self._session.flush()

    def checkpoints(self, name: str, *, limit: int) -> builtins.list[BackfillCheckpoint]:
        """The job's newest ``limit`` checkpoints, newest first."""
        rows = self._session.scalars(
            select(BackfillCheckpointRow)
            .join(BackfillJobRow, BackfillJobRow.id == BackfillCheckpointRow.job_id)
            .where(BackfillJobRow.name == name)
            .order_by(BackfillCheckpointRow.id.desc())
            .limit(limit)
        )
        return [
            BackfillCheckpoint(
                job=name,
                at=row.at,
                worker=row.worker,
                last_key=row.last_key,
                rows_done=row.rows_done,
                batch_rows=row.batch_rows,
                batch_size=row.batch_size,
                batch_seconds=row.batch_seconds,
            )
            for row in rows
        ]

    def _row(self, name: str, *, lock: bool) -> BackfillJobRow | None:
        statement = select(BackfillJobRow).where(BackfillJobRow.name == name)
        if lock:
            statement = statement.with_for_update()
        return self._session.scalars(statement).one_or_none()


def _record(row: BackfillJobRow) -> BackfillRecord:
    return BackfillRecord(
        name=row.name,
        document=row.document,
        fingerprint=row.fingerprint,
        strategy=row.strategy,
        status=row.status,
        rows_done=row.rows_done,
        rows_total=row.rows_total,
        batches=row.batches,
        batch_size=row.batch_size,
        rows_per_second=row.rows_per_second,
        eta_seconds=row.eta_seconds,
        last_key=row.last_key,
        lease_owner=row.lease_owner,
        lease_expires_at=row.lease_expires_at,
        error=row.error,
        verify=row.verify,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )
