"""Flags and their immutable versions."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rheostat.errors import Conflict
from rheostat.store.mappers import to_flag, to_flag_version
from rheostat.store.records import AuditAction, FlagRecord, FlagVersion
from rheostat.store.repositories.environments import EnvironmentRepository
from rheostat.store.tables import EnvironmentRow, FlagRow, FlagVersionRow

__all__ = ["FlagChange", "FlagRepository", "StoredFlag"]


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredFlag:
    """A flag row as services see it: the record, and whether it is deleted."""

    record: FlagRecord
    deleted: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class FlagChange:
    """Why and by whom a flag version is written.

    Attributes:
        expected_version: the version the writer read; ``0`` creates the flag (or revives a
            deleted one, whose history continues).
    """

    expected_version: int
    action: AuditAction
    actor: str
    reason: str | None
    at: datetime
    deleted: bool = False
    segments: Mapping[str, int] | None = None
    """The versions of the segments the written definition tests (``{"pilot-orgs": 3}``)."""


class FlagRepository:
    """Reads and writes ``flags`` and ``flag_versions`` in one session."""

    def __init__(self, session: Session, environments: EnvironmentRepository) -> None:
        self._session = session
        self._environments = environments

    def find(self, environment: str, key: str, *, lock: bool = False) -> StoredFlag | None:
        """Return the flag (deleted or not), or ``None`` if it never existed.

        ``lock`` holds the row until commit (``SELECT ... FOR UPDATE`` on PostgreSQL).
        """
        row = self._row(environment, key, lock=lock)
        if row is None:
            return None
        return StoredFlag(record=to_flag(row, environment), deleted=row.deleted_at is not None)

    def list(self, environment: str) -> builtins.list[FlagRecord]:
        """Return the environment's live flags, sorted by key."""
        environment_id = self._environments.id_of(environment)
        rows = self._session.scalars(
            select(FlagRow)
            .where(FlagRow.environment_id == environment_id, FlagRow.deleted_at.is_(None))
            .order_by(FlagRow.key)
        )
        return [to_flag(row, environment) for row in rows]

    def write(
        self, environment: str, key: str, definition: Mapping[str, Any], change: FlagChange
    ) -> FlagRecord:
        """Write ``definition`` as the flag's next version and append it to the history.

        Raises:
            Conflict: the stored version is not ``change.expected_version``.
        """
        row = self._row(environment, key, lock=True)
        current = 0 if row is None else row.version
        if change.expected_version != current:
            raise stale_flag(environment, key, change.expected_version, current)
        row = row or self._new_row(environment, key)
        self._apply(row, definition, change)
        try:
            self._session.flush()
            self._session.add(_version_row(row, change))
            self._session.flush()
        except IntegrityError as error:
            raise stale_flag(environment, key, change.expected_version, current) from error
        return to_flag(row, environment)

    def history(self, environment: str, key: str) -> builtins.list[FlagVersion]:
        """Return every version of the flag, newest first (empty if it never existed)."""
        row = self._row(environment, key)
        if row is None:
            return []
        rows = self._session.scalars(
            select(FlagVersionRow)
            .where(FlagVersionRow.flag_id == row.id)
            .order_by(FlagVersionRow.version.desc())
        )
        return [to_flag_version(version, environment, key) for version in rows]

    def find_version(self, environment: str, key: str, version: int) -> FlagVersion | None:
        """Return one version of the flag, or ``None``."""
        found = self._session.scalar(
            select(FlagVersionRow)
            .join(FlagRow, FlagRow.id == FlagVersionRow.flag_id)
            .where(
                FlagRow.environment_id == self._environments.id_of(environment),
                FlagRow.key == key,
                FlagVersionRow.version == version,
            )
        )
        return None if found is None else to_flag_version(found, environment, key)

    def count_versions(self, environment: str, key: str) -> int:
        """Return how many versions the flag has."""
        return int(
            self._session.scalar(
                select(func.count())
                .select_from(FlagVersionRow)
                .join(FlagRow, FlagRow.id == FlagVersionRow.flag_id)
                .where(
                    FlagRow.environment_id == self._environments.id_of(environment),
                    FlagRow.key == key,
                )
            )
            or 0
        )

    def list_all(self) -> builtins.list[FlagRecord]:
        """Return the live flags of every environment, sorted by environment and key."""
        rows = self._session.execute(
            select(FlagRow, EnvironmentRow.key)
            .join(EnvironmentRow, EnvironmentRow.id == FlagRow.environment_id)
            .where(FlagRow.deleted_at.is_(None))
            .order_by(EnvironmentRow.key, FlagRow.key)
        )
        return [to_flag(row, environment) for row, environment in rows]

    def _row(self, environment: str, key: str, *, lock: bool = False) -> FlagRow | None:
        statement = select(FlagRow).where(
            FlagRow.environment_id == self._environments.id_of(environment), FlagRow.key == key
        )
        if lock:
            statement = statement.with_for_update()
        return self._session.scalar(statement)

    def _new_row(self, environment: str, key: str) -> FlagRow:
        row = FlagRow(environment_id=self._environments.id_of(environment), key=key, version=0)
        self._session.add(row)
        return row

    @staticmethod
    def _apply(row: FlagRow, definition: Mapping[str, Any], change: FlagChange) -> None:
        if row.version == 0:
            row.created_at = change.at
        row.definition = dict(definition)
        row.version = row.version + 1
        row.updated_at = change.at
        row.deleted_at = change.at if change.deleted else None


def _version_row(row: FlagRow, change: FlagChange) -> FlagVersionRow:
    return FlagVersionRow(
        flag_id=row.id,
        version=row.version,
        definition=dict(row.definition),
        deleted=change.deleted,
        action=change.action.value,
        actor=change.actor,
        reason=change.reason,
        created_at=change.at,
        segments=None if change.segments is None else dict(change.segments),
    )


def stale_flag(environment: str, key: str, expected: int, current: int) -> Conflict:
    """The ``Conflict`` for a write based on version ``expected`` of a flag now at ``current``."""
    return Conflict(
        f"flag {key!r} in {environment!r} is at version {current}, not {expected}: it changed"
        " since it was read; read it again and reapply the change",
        details={
            "environment": environment,
            "flag": key,
            "expected_version": expected,
            "current_version": current,
        },
    )
