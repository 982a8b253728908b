"""SDK processes (their heartbeats) and the revision of each flag's last change."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Table, case, select
from sqlalchemy.orm import Session

from rheostat.store.repositories._dialect import dialect_insert
from rheostat.store.repositories.environments import EnvironmentRepository
from rheostat.store.tables import FlagRevisionRow, SdkProcessRow

__all__ = ["Heartbeat", "SdkProcess", "SdkProcessRepository"]

_PROCESSES: Table = SdkProcessRow.__table__  # type: ignore[assignment]
_FLAG_REVISIONS: Table = FlagRevisionRow.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True, kw_only=True)
class Heartbeat:
    """What an SDK process reports: who it is and the revision of the flags it serves."""

    instance_id: str
    revision: int
    hostname: str = ""
    pid: int = 0
    sdk: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class SdkProcess:
    """A process as last heard of; ``applied_at``: when it first reported ``revision``."""

    instance_id: str
    revision: int
    hostname: str
    pid: int
    sdk: str
    first_seen_at: datetime
    last_seen_at: datetime
    applied_at: datetime


class SdkProcessRepository:
    """Reads and writes ``sdk_processes`` and ``flag_revisions`` in one session."""

    def __init__(self, session: Session, environments: EnvironmentRepository) -> None:
        self._session = session
        self._environments = environments

    def record(self, environment: str, heartbeat: Heartbeat, *, at: datetime) -> None:
        """Insert or refresh the process's row (``applied_at`` moves with its revision)."""
        values = {
            "environment_id": self._environments.id_of(environment),
            "instance_id": heartbeat.instance_id,
            "revision": heartbeat.revision,
            "hostname": heartbeat.hostname,
            "pid": heartbeat.pid,
            "sdk": heartbeat.sdk,
            "first_seen_at": at,
            "last_seen_at": at,
            "applied_at": at,
        }
        insert = dialect_insert(self._session, _PROCESSES).values(values)
        moved = _PROCESSES.c.revision != insert.excluded.revision
        self._session.execute(
            insert.on_conflict_do_update(
                index_elements=["environment_id", "instance_id"],
                set_={
                    "revision": insert.excluded.revision,
                    "hostname": insert.excluded.hostname,
                    "pid": insert.excluded.pid,
                    "sdk": insert.excluded.sdk,
                    "last_seen_at": insert.excluded.last_seen_at,
                    "applied_at": case(
                        (moved, insert.excluded.applied_at), else_=_PROCESSES.c.applied_at
                    ),
                },
            )
        )

    def seen_since(self, environment: str, since: datetime) -> builtins.list[SdkProcess]:
        """Processes heard of at or after ``since``, oldest heartbeat first."""
        rows = self._session.scalars(
            select(SdkProcessRow)
            .where(
                SdkProcessRow.environment_id == self._environments.id_of(environment),
                SdkProcessRow.last_seen_at >= since,
            )
            .order_by(SdkProcessRow.last_seen_at, SdkProcessRow.instance_id)
        )
        return [_process(row) for row in rows]

    def stamp_flag(self, environment: str, flag: str, revision: int) -> None:
        """Record that ``flag``'s current definition is part of ``revision`` and later."""
        insert = dialect_insert(self._session, _FLAG_REVISIONS).values(
            environment_id=self._environments.id_of(environment), flag=flag, revision=revision
        )
        self._session.execute(
            insert.on_conflict_do_update(
                index_elements=["environment_id", "flag"],
                set_={"revision": insert.excluded.revision},
            )
        )

    def flag_revision(self, environment: str, flag: str) -> int | None:
        """The revision of ``flag``'s last change (``None``: not changed since 0010)."""
        found = self._session.scalar(
            select(FlagRevisionRow.revision).where(
                FlagRevisionRow.environment_id == self._environments.id_of(environment),
                FlagRevisionRow.flag == flag,
            )
        )
        return None if found is None else int(found)


def _process(row: SdkProcessRow) -> SdkProcess:
    return SdkProcess(
        instance_id=row.instance_id,
        revision=int(row.revision),
        hostname=row.hostname,
        pid=row.pid,
        sdk=row.sdk,
        first_seen_at=row.first_seen_at,
        last_seen_at=row.last_seen_at,
        applied_at=row.applied_at,
    )
