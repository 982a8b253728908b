"""Key ranges that parallel workers claim, with a checkpoint each, in the target database.

A parallel run splits the keys after the job's checkpoint into ranges ``(low, high]`` (the
last one has no upper end) and writes two rows per range, in the target database next to the
job's checkpoint:

* ``rheostat_backfill_ranges``: the range itself, never updated. A worker **claims** a range
  by locking its row with ``SELECT ... FOR UPDATE SKIP LOCKED`` in a transaction it keeps
  open while it copies the range (on a connection of its own), so two workers never take the
  same range, and a worker that dies (SIGKILL included) releases its claim with its
  connection: the next worker, or the next run, takes the range over.
* ``rheostat_backfill_range_checkpoints``: the range's checkpoint (last key, rows, batches),
  moved in each batch's own transaction, as the job's checkpoint is in a single-worker run;
  the batch locks it ``FOR UPDATE`` first, so even two workers on one range (a claim lost
  with its connection while its worker still copies) would take turns, never copy a row
  twice or skip one.

The claim lives in a table of its own because a batch must update the checkpoint row while
the claim holds the range row locked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    select,
)

from rheostat.backfill import decode_key

__all__ = [
    "RANGES",
    "RANGE_CHECKPOINTS",
    "RangeClaim",
    "RangeTotals",
    "claim_range",
    "delete_ranges",
    "range_tables",
    "range_totals",
]

metadata = MetaData()
RANGES = Table(
    "rheostat_backfill_ranges",
    metadata,
    Column("job", String(128), primary_key=True),
    Column("range_no", Integer, primary_key=True, autoincrement=False),
    Column("low_key", Text),
    Column("high_key", Text),
)
RANGE_CHECKPOINTS = Table(
    "rheostat_backfill_range_checkpoints",
    metadata,
    Column("job", String(128), primary_key=True),
    Column("range_no", Integer, primary_key=True, autoincrement=False),
    Column("last_key", Text),
    Column("rows_done", BigInteger, nullable=False),
    Column("batches", BigInteger, nullable=False),
    Column("batch_size", Integer, nullable=False),
    Column("finished", Boolean, nullable=False),
    Column("worker", String(200)),
    Column("updated_at", String(40), nullable=False),
)


def range_tables() -> list[Table]:
    """The two tables, for ``create_all``."""
    return [RANGES, RANGE_CHECKPOINTS]


@dataclass(frozen=True, slots=True)
class RangeClaim:
    """A range a worker holds: its number and key bounds (``None``: unbounded)."""

    range_no: int
    low: tuple[Any, ...] | None
    high: tuple[Any, ...] | None


@dataclass(frozen=True, slots=True)
class RangeTotals:
    """The ranges of a job: how many, how many finished, rows and batches done, and the
    last key of the last range (the job's last key once all are finished)."""

    ranges: int
    finished: int
    rows_done: int
    batches: int
    last_key: str | None

    @property
    def complete(self) -> bool:
        """Every range is copied (and there is at least one)."""
        return self.ranges > 0 and self.finished == self.ranges


def claim_range(connection: Connection, job: str, *, lock: bool) -> RangeClaim | None:
    """Lock the first unfinished range no other worker holds (``FOR UPDATE SKIP LOCKED``, in
    ``connection``'s open transaction, which the caller keeps open while it copies the range);
    ``None`` when every unfinished range is held, or none is left. ``lock=False`` (SQLite:
    one worker) takes the first unfinished range without locking."""
    statement = (
        select(RANGES.c.range_no, RANGES.c.low_key, RANGES.c.high_key)
        .join(
            RANGE_CHECKPOINTS,
            (RANGE_CHECKPOINTS.c.job == RANGES.c.job)
            & (RANGE_CHECKPOINTS.c.range_no == RANGES.c.range_no),
        )
        .where(RANGES.c.job == job, RANGE_CHECKPOINTS.c.finished.is_(False))
        .order_by(RANGES.c.range_no)
        .limit(1)
    )
    if lock:
        statement = statement.with_for_update(skip_locked=True, of=RANGES)
    row = connection.execute(statement).first()
    if row is None:
        return None
    return RangeClaim(row.range_no, decode_key(row.low_key), decode_key(row.high_key))


def range_totals(connection: Connection, job: str) -> RangeTotals:
    """Sum the job's range checkpoints."""
    checkpoints = RANGE_CHECKPOINTS.c
    row = connection.execute(
        select(
            func.count(),
            func.coalesce(func.sum(func.cast(checkpoints.finished, Integer)), 0),
            func.coalesce(func.sum(checkpoints.rows_done), 0),
            func.coalesce(func.sum(checkpoints.batches), 0),
        ).where(checkpoints.job == job)
    ).one()
    last = connection.execute(
        select(checkpoints.last_key)
        .where(checkpoints.job == job)
        .order_by(checkpoints.range_no.desc())
        .limit(1)
    ).scalar()
    return RangeTotals(int(row[0]), int(row[1]), int(row[2]), int(row[3]), last)


def delete_ranges(connection: Connection, job: str) -> None:
    """Forget the job's ranges (``run --restart``, or once they are folded into the job's
    checkpoint)."""
    connection.execute(delete(RANGE_CHECKPOINTS).where(RANGE_CHECKPOINTS.c.job == job))
    connection.execute(delete(RANGES).where(RANGES.c.job == job))
