"""Environments, and the key -> id lookup the other repositories share."""

from __future__ import annotations

import builtins
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rheostat.errors import AlreadyExists, NotFound
from rheostat.store.mappers import to_environment
from rheostat.store.records import ApiKeyScope, Environment
from rheostat.store.tables import (
    ApiKeyRow,
    Base,
    EnvironmentRow,
    ExperimentRow,
    FlagRow,
    SegmentRow,
)

__all__ = ["EnvironmentRepository"]


class EnvironmentRepository:
    """Reads and writes ``environments`` in one session."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._ids: dict[str, int] = {}

    def find(self, key: str, *, lock: bool = False) -> Environment | None:
        """Return the environment, or ``None``; ``lock`` holds its row until commit."""
        row = self._row(key, lock=lock)
        return None if row is None else to_environment(row)

    def get(self, key: str, *, lock: bool = False) -> Environment:
        """Return the environment. Raises ``NotFound``."""
        environment = self.find(key, lock=lock)
        if environment is None:
            raise _not_found(key)
        return environment

    def list(self) -> builtins.list[Environment]:
        """Return every environment, sorted by key."""
        rows = self._session.scalars(select(EnvironmentRow).order_by(EnvironmentRow.key))
        return [to_environment(row) for row in rows]

    def id_of(self, key: str) -> int:
        """Return the row id of environment ``key``. Raises ``NotFound``."""
        if key not in self._ids:
            found = self._session.scalar(select(EnvironmentRow.id).where(EnvironmentRow.key == key))
            if found is None:
                raise _not_found(key)
            self._ids[key] = found
        return self._ids[key]

    def key_of(self, environment_id: int) -> str:
        """Return the key of the environment with row id ``environment_id``."""
        row = self._session.get_one(EnvironmentRow, environment_id)
        return row.key

    def add(self, environment: Environment) -> Environment:
        """Insert a new environment. Raises ``AlreadyExists``."""
        if self._row(environment.key) is not None:
            raise _exists(environment.key)
        row = EnvironmentRow(
            key=environment.key,
            name=environment.name,
            description=environment.description,
            version=1,
            created_at=environment.created_at,
            updated_at=environment.updated_at,
        )
        self._session.add(row)
        try:
            self._session.flush()
        except IntegrityError as error:
            raise _exists(environment.key) from error
        return to_environment(row)

    def save(self, environment: Environment, *, at: datetime) -> Environment:
        """Write name and description as a new version (the row must be loaded with ``lock``)."""
        row = self._required_row(environment.key)
        row.name = environment.name
        row.description = environment.description
        row.version = row.version + 1
        row.updated_at = at
        self._session.flush()
        return to_environment(row)

    def delete(self, key: str) -> None:
        """Delete the environment and whatever history its flags left."""
        row = self._required_row(key)
        self._session.delete(row)
        self._session.flush()
        self._ids.pop(key, None)

    def bump_revision(self, key: str) -> None:
        """Add one to the environment's revision (its flags or segments change in this
        transaction). A core UPDATE: it does not touch the optimistic ``version``."""
        self._session.execute(
            update(EnvironmentRow)
            .where(EnvironmentRow.key == key)
            .values(revision=EnvironmentRow.revision + 1)
            .execution_options(synchronize_session=False)
        )

    def revision_of(self, key: str) -> int:
        """Return the environment's revision (one indexed row). Raises ``NotFound``."""
        found = self._session.scalar(
            select(EnvironmentRow.revision).where(EnvironmentRow.key == key)
        )
        if found is None:
            raise _not_found(key)
        return int(found)

    def count_contents(self, key: str) -> dict[str, int]:
        """Count live flags, segments, experiments and active SDK keys of environment ``key``.

        Deleting the environment would delete all of them (experiments with their exposures,
        metric windows and stored results), so the service refuses while any is counted.
        """
        environment_id = self.id_of(key)
        return {
            "flags": self._count(
                FlagRow, FlagRow.environment_id == environment_id, FlagRow.deleted_at.is_(None)
            ),
            "segments": self._count(SegmentRow, SegmentRow.environment_id == environment_id),
            "experiments": self._count(
                ExperimentRow, ExperimentRow.environment_id == environment_id
            ),
            "sdk_keys": self._count(
                ApiKeyRow,
                ApiKeyRow.environment_id == environment_id,
                ApiKeyRow.scope == ApiKeyScope.SDK.value,
                ApiKeyRow.revoked_at.is_(None),
            ),
        }

    def _count(self, table: type[Base], *conditions: ColumnElement[bool]) -> int:
        statement = select(func.count()).select_from(table).where(*conditions)
        return int(self._session.scalar(statement) or 0)

    def _row(self, key: str, *, lock: bool = False) -> EnvironmentRow | None:
        statement = select(EnvironmentRow).where(EnvironmentRow.key == key)
        if lock:
            # FOR NO KEY UPDATE: serialises writers of this environment without blocking
            # inserts that only reference it (API keys, flags of other transactions wait anyway).
            statement = statement.with_for_update(key_share=True)
        return self._session.scalar(statement)

    def _required_row(self, key: str) -> EnvironmentRow:
        row = self._row(key)
        if row is None:
            raise _not_found(key)
        return row


def _not_found(key: str) -> NotFound:
    return NotFound(f"environment {key!r} does not exist", details={"environment": key})


def _exists(key: str) -> AlreadyExists:
    return AlreadyExists(f"environment {key!r} already exists", details={"environment": key})
