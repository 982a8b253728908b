"""Segments of an environment."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rheostat.errors import AlreadyExists, NotFound
from rheostat.store.mappers import to_segment
from rheostat.store.records import SegmentRecord
from rheostat.store.repositories.environments import EnvironmentRepository
from rheostat.store.tables import SegmentRow

__all__ = ["SegmentRepository"]


class SegmentRepository:
    """Reads and writes ``segments`` in one session."""

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
        self, environment: str, key: str, definition: Mapping[str, Any], *, at: datetime
    ) -> SegmentRecord:
        """Insert a segment at version 1. Raises ``AlreadyExists``."""
        row = SegmentRow(
            environment_id=self._environments.id_of(environment),
            key=key,
            definition=dict(definition),
            version=1,
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
        return to_segment(row, environment)

    def save(
        self, environment: str, key: str, definition: Mapping[str, Any], *, at: datetime
    ) -> SegmentRecord:
        """Write a new definition as the next version."""
        row = self._required_row(environment, key)
        row.definition = dict(definition)
        row.version = row.version + 1
        row.updated_at = at
        self._session.flush()
        return to_segment(row, environment)

    def delete(self, environment: str, key: str) -> None:
        """Delete the segment."""
        self._session.delete(self._required_row(environment, key))
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
