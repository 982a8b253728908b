"""Segments of an environment, and their immutable history."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rheostat.errors import AlreadyExists, NotFound
from rheostat.store.mappers import to_segment, to_segment_version
from rheostat.store.records import AuditAction, SegmentRecord, SegmentVersion
from rheostat.store.repositories.environments import EnvironmentRepository
from rheostat.store.tables import SegmentRow, SegmentVersionRow

__all__ = ["SegmentChange", "SegmentRepository"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SegmentChange:
    """Why, by whom and when a segment version is written (its history row)."""

    action: AuditAction
    actor: str
    reason: str | None
    at: datetime


class SegmentRepository:
    """Reads and writes ``segments`` and their history, ``segment_versions``, in one session."""

    def __init__(self, session: Session, environments: EnvironmentRepository) -> None:
        self._session = session
        self._environments = environments

    def find(self, environment: str, key: str, *, lock: bool = False) -> SegmentRecord | None:
        """Return the segment, or ``None``; ``lock`` holds its row until commit."""
        row = self._row(environment, key, lock=lock)
        return None if row is None else to_segment(row, environment)

    def list(self, environment: str) -> builtins.list[SegmentRecord]:
        """Return the environment's segments, sorted by key."""
        rows = self._session.scalars(
            select(SegmentRow)
            .where(SegmentRow.environment_id == self._environments.id_of(environment))
            .order_by(SegmentRow.key)
        )
        return [to_segment(row, environment) for row in rows]

    def add(
        self, environment: str, key: str, definition: Mapping[str, Any], change: SegmentChange
    ) -> SegmentRecord:
        """Insert a segment; a deleted one's history continues. Raises ``AlreadyExists``."""
        at = change.at
        row = SegmentRow(
            environment_id=self._environments.id_of(environment),
            key=key,
            definition=dict(definition),
            version=self._last_version(environment, key) + 1,
            created_at=at,
            updated_at=at,
        )
        self._session.add(row)
        try:
            self._session.flush()
        except IntegrityError as error:
            raise AlreadyExists(
                f"segment {key!r} already exists in {environment!r}",
                details={"environment": environment, "segment": key},
            ) from error
        self._record(row, change, deleted=False)
        return to_segment(row, environment)

    def save(
        self, environment: str, key: str, definition: Mapping[str, Any], change: SegmentChange
    ) -> SegmentRecord:
        """Write a new definition as the next version."""
        row = self._required_row(environment, key)
        row.definition = dict(definition)
        row.version = row.version + 1
        row.updated_at = change.at
        self._session.flush()
        self._record(row, change, deleted=False)
        return to_segment(row, environment)

    def delete(self, environment: str, key: str, change: SegmentChange) -> None:
        """Delete the segment; its history stays, ending with a version marked deleted."""
        row = self._required_row(environment, key)
        row.version = row.version + 1
        self._record(row, change, deleted=True)
        self._session.delete(row)
        self._session.flush()

    def versions(self, environment: str, key: str) -> builtins.list[SegmentVersion]:
        """Return every version of the segment, newest first (empty if it never existed)."""
        rows = self._session.scalars(
            select(SegmentVersionRow)
            .where(
                SegmentVersionRow.environment_id == self._environments.id_of(environment),
                SegmentVersionRow.key == key,
            )
            .order_by(SegmentVersionRow.version.desc())
        )
        return [to_segment_version(row, environment) for row in rows]

    def find_version(self, environment: str, key: str, version: int) -> SegmentVersion | None:
        """Return one version of the segment, or ``None``."""
        row = self._session.scalar(
            select(SegmentVersionRow).where(
                SegmentVersionRow.environment_id == self._environments.id_of(environment),
                SegmentVersionRow.key == key,
                SegmentVersionRow.version == version,
            )
        )
        return None if row is None else to_segment_version(row, environment)

    def _last_version(self, environment: str, key: str) -> int:
        found = self._session.scalar(
            select(func.max(SegmentVersionRow.version)).where(
                SegmentVersionRow.environment_id == self._environments.id_of(environment),
                SegmentVersionRow.key == key,
            )
        )
        return int(found or 0)

    def _record(self, row: SegmentRow, change: SegmentChange, *, deleted: bool) -> None:
        self._session.add(
            SegmentVersionRow(
                environment_id=row.environment_id,
                key=row.key,
                version=row.version,
                definition=dict(row.definition),
                deleted=deleted,
                action=change.action.value,
                actor=change.actor,
                reason=change.reason,
                created_at=change.at,
            )
        )
        self._session.flush()

    def _row(self, environment: str, key: str, *, lock: bool = False) -> SegmentRow | None:
        statement = select(SegmentRow).where(
            SegmentRow.environment_id == self._environments.id_of(environment),
            SegmentRow.key == key,
        )
        if lock:
            statement = statement.with_for_update()
        return self._session.scalar(statement)

    def _required_row(self, environment: str, key: str) -> SegmentRow:
        row = self._row(environment, key)
        if row is None:
            raise NotFound(
                f"segment {key!r} does not exist in {environment!r}",
                details={"environment": environment, "segment": key},
            )
        return row
