"""The job's checkpoint, in the target database next to the rows it describes.

``rheostat_backfill_checkpoints`` holds one row per job: its fingerprint (and the essence it
was made from, to name what changed), the last key copied, rows and batches done, the batch
size and whether the copy is finished. A batch locks the row, copies, and moves it in one
transaction, so the rows and their checkpoint commit together or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.exc import SQLAlchemyError

from rheostat.backfill import BackfillJob, decode_key, encode_key, job_essence
from rheostat.clock import Clock
from rheostat.errors import Conflict, NotFound, ValidationError
from rheostat.runner.copier import Copier
from rheostat.runner.databases import reading
from rheostat.runner.ranges import delete_ranges, range_tables
from rheostat.runner.reports import BatchOutcome

__all__ = ["CHECKPOINTS", "CHECKPOINT_TABLE", "Checkpoint", "Checkpoints"]

CHECKPOINT_TABLE = "rheostat_backfill_checkpoints"

_metadata = MetaData()
CHECKPOINTS = Table(
    CHECKPOINT_TABLE,
    _metadata,
    Column("job", String(128), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("essence", Text, nullable=False),
    Column("last_key", Text),
    Column("rows_done", BigInteger, nullable=False),
    Column("batches", BigInteger, nullable=False),
    Column("batch_size", Integer, nullable=False),
    Column("finished", Boolean, nullable=False),
    Column("updated_at", String(40), nullable=False),
)


@dataclass(slots=True)
class Checkpoint:
    """A job's checkpoint row, as read."""

    last_key: str | None
    rows_done: int
    batches: int
    batch_size: int
    finished: bool
    fingerprint: str
    essence: Mapping[str, Any] = field(default_factory=dict)


class Checkpoints:
    """The checkpoint of ``job`` in the ``target`` database, made by the job ``fingerprint``;
    its batches copied by ``copier``."""

    def __init__(
        self, job: BackfillJob, target: Engine, *, copier: Copier, clock: Clock, fingerprint: str
    ) -> None:
        self._job = job
        self._target = target
        self._copier = copier
        self._clock = clock
        self._fingerprint = fingerprint

    def create_tables(self) -> None:
        """Create the checkpoint and key-range tables where they are missing."""
        try:
            self._create_tables()
        except SQLAlchemyError:  # another worker created them at the same moment
            self._create_tables()

    def _create_tables(self) -> None:
        _metadata.create_all(self._target, tables=[CHECKPOINTS], checkfirst=True)
        tables = range_tables()
        tables[0].metadata.create_all(self._target, tables=tables, checkfirst=True)

    def find(self) -> Checkpoint | None:
        """The job's checkpoint, or ``None`` (no checkpoint table, or no row for the job)."""
        if not inspect(self._target).has_table(CHECKPOINT_TABLE):
            return None
        with reading(self._target) as connection:
            row = connection.execute(
                select(CHECKPOINTS).where(CHECKPOINTS.c.job == self._job.name)
            ).first()
        if row is None:
            return None
        return Checkpoint(
            last_key=row.last_key,
            rows_done=row.rows_done,
            batches=row.batches,
            batch_size=row.batch_size,
            finished=bool(row.finished),
            fingerprint=row.fingerprint,
            essence=json.loads(row.essence),
        )

    def open(self, *, restart: bool, resume: bool) -> Checkpoint:
        """The checkpoint a run starts from: created when missing (unless ``resume``),
        forgotten first with ``restart``, refused when another definition made it.

        Raises:
            NotFound: ``resume`` and no checkpoint.
            ValidationError: the checkpoint's fingerprint is another definition's.
        """
        name = self._job.name
        with self._target.begin() as connection:
            if restart:
                connection.execute(CHECKPOINTS.delete().where(CHECKPOINTS.c.job == name))
                delete_ranges(connection, name)
            row = connection.execute(
                select(CHECKPOINTS).where(CHECKPOINTS.c.job == name).with_for_update()
            ).first()
            if row is None:
                if resume:
                    raise NotFound(
                        f"backfill {name!r} has no checkpoint in the target database: "
                        "nothing to resume; start it with `run`",
                        details={"backfill": name},
                    )
                fresh = Checkpoint(None, 0, 0, self._job.batch.size, False, self._fingerprint)
                connection.execute(
                    insert(CHECKPOINTS).values(
                        job=name,
                        fingerprint=self._fingerprint,
                        essence=json.dumps(job_essence(self._job), sort_keys=True),
                        last_key=None,
                        rows_done=0,
                        batches=0,
                        batch_size=fresh.batch_size,
                        finished=False,
                        updated_at=self._clock.now().isoformat(),
                    )
                )
                return fresh
            if row.fingerprint != self._fingerprint:
                stored = json.loads(row.essence)
                changed = [k for k, v in job_essence(self._job).items() if stored.get(k) != v]
                raise ValidationError(
                    f"backfill {name!r}: the checkpoint in the target database was made by "
                    f"this job with another {', '.join(changed) or 'definition'}, so it cannot "
                    "tell which rows are done; restore the job file, or start over with "
                    "`run --restart` (rows already copied are overwritten, not duplicated)",
                    details={"backfill": name, "changed": changed},
                )
            return Checkpoint(
                last_key=row.last_key,
                rows_done=row.rows_done,
                batches=row.batches,
                batch_size=row.batch_size,
                finished=bool(row.finished),
                fingerprint=row.fingerprint,
            )

    def check_fingerprint(self) -> None:
        """Refuse a checkpoint another definition of the job made (a parallel worker's check).

        Raises:
            ValidationError: it was.
        """
        with reading(self._target) as connection:
            found = connection.execute(
                select(CHECKPOINTS.c.fingerprint).where(CHECKPOINTS.c.job == self._job.name)
            ).scalar()
        if found is not None and found != self._fingerprint:
            raise ValidationError(
                f"backfill {self._job.name!r}: the checkpoint in the target database was made "
                "by another definition of this job; its ranges cannot be continued",
                details={"backfill": self._job.name},
            )

    def copy_batch(self, size: int) -> BatchOutcome:
        """One batch after the checkpoint, the checkpoint moved in the same transaction."""
        name = self._job.name
        with self._target.begin() as connection:
            row = connection.execute(
                select(CHECKPOINTS).where(CHECKPOINTS.c.job == name).with_for_update()
            ).one()
            if row.fingerprint != self._fingerprint:
                raise Conflict(f"backfill {name!r}: its checkpoint changed under it")
            if row.finished:
                return BatchOutcome(0, decode_key(row.last_key), True, row.rows_done, row.batches)
            outcome = self._copier.copy(connection, decode_key(row.last_key), size)
            outcome.rows_done = row.rows_done + outcome.rows
            outcome.batches = row.batches + 1
            connection.execute(
                update(CHECKPOINTS)
                .where(CHECKPOINTS.c.job == name)
                .values(
                    last_key=encode_key(outcome.last_key),
                    rows_done=outcome.rows_done,
                    batches=outcome.batches,
                    batch_size=size,
                    finished=outcome.finished,
                    updated_at=self._clock.now().isoformat(),
                )
            )
        return outcome
