"""A parallel backfill's key ranges: split once, claimed and copied by workers, then folded.

``split`` cuts the keys after the job's checkpoint into ranges of about the same number of
source rows (``ranges.py`` holds their tables); ``work`` is one worker: it claims a free range
(``SKIP LOCKED`` on PostgreSQL), copies it batch by batch, each batch moving the range's
checkpoint in its own transaction, and goes on to the next; ``fold`` adds the finished ranges
into the job's checkpoint and forgets them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from sqlalchemy import insert, select, update

from rheostat.backfill import (
    BackfillJob,
    BatchTiming,
    decode_key,
    encode_key,
    next_batch_size,
    range_split,
)
from rheostat.clock import Clock
from rheostat.errors import Conflict
from rheostat.runner.checkpoints import CHECKPOINTS, Checkpoint
from rheostat.runner.copier import Copier
from rheostat.runner.databases import Databases, reading
from rheostat.runner.pace import IDLE_SLICE_SECONDS, Pace, Pacer
from rheostat.runner.ranges import (
    RANGE_CHECKPOINTS,
    RANGES,
    RangeClaim,
    RangeTotals,
    claim_range,
    delete_ranges,
    range_totals,
)
from rheostat.runner.reports import BatchOutcome

__all__ = ["KeyRanges", "OnRangeBatch"]

OnRangeBatch = Callable[[int, float, int, tuple[str, ...]], None]
"""Called after each batch of a range: its size, seconds, the next size, throttle reasons."""


class KeyRanges:
    """``job``'s key ranges in ``databases.target``; ``worker`` names who copies them."""

    def __init__(
        self,
        job: BackfillJob,
        databases: Databases,
        *,
        copier: Copier,
        pacer: Pacer,
        clock: Clock,
        worker: str,
    ) -> None:
        self._job = job
        self._databases = databases
        self._copier = copier
        self._pacer = pacer
        self._clock = clock
        self.worker = worker

    def totals(self) -> RangeTotals:
        """The ranges' sums, read without a lock."""
        with reading(self._databases.target) as connection:
            totals = range_totals(connection, self._job.name)
        return totals

    def split(self, checkpoint: Checkpoint, rows_total: int, workers: int) -> None:
        """Split the keys after the checkpoint into ranges, unless an earlier run did: each
        of about the same number of source rows (found on the key's index, so composite keys
        split too), the last one open-ended."""
        name = self._job.name
        with self._databases.target.begin() as connection:
            connection.execute(
                select(CHECKPOINTS.c.job).where(CHECKPOINTS.c.job == name).with_for_update()
            ).one()
            if range_totals(connection, name).ranges > 0:
                return
            count, per_range = range_split(rows_total - checkpoint.rows_done, workers)
            low = decode_key(checkpoint.last_key)
            bounds: list[tuple[Any, ...] | None] = [low]
            with reading(self._databases.source) as source:
                for _ in range(count - 1):
                    high = self._copier.boundary(source, bounds[-1], per_range)
                    if high is None:
                        break
                    bounds.append(high)
            bounds.append(None)
            now = self._clock.now().isoformat()
            for number, (start, end) in enumerate(itertools.pairwise(bounds)):
                connection.execute(
                    insert(RANGES).values(
                        job=name,
                        range_no=number,
                        low_key=encode_key(start),
                        high_key=encode_key(end),
                    )
                )
                connection.execute(
                    insert(RANGE_CHECKPOINTS).values(
                        job=name,
                        range_no=number,
                        last_key=encode_key(start),
                        rows_done=0,
                        batches=0,
                        batch_size=self._job.batch.size,
                        finished=False,
                        worker=None,
                        updated_at=now,
                    )
                )

    def work(self, should_stop: Callable[[], bool], on_batch: OnRangeBatch | None) -> int:
        """Claim the next free range and copy it, and again, until every range is copied or
        ``should_stop()``; wait while the only ranges left are held by other workers (one
        that dies releases its claim). Returns the rows copied."""
        locking = self._databases.target.dialect.name == "postgresql"
        pace = Pace(self._job.batch.size, self._clock.monotonic())
        while not should_stop():
            with self._databases.target.connect() as claiming:
                claiming.begin()
                claim = claim_range(claiming, self._job.name, lock=locking)
                if not locking or claim is None:
                    claiming.rollback()  # one worker holds nothing; or nothing to hold
                if claim is None:
                    totals = self.totals()
                    if totals.finished == totals.ranges:
                        break
                    self._clock.sleep(IDLE_SLICE_SECONDS)  # the rest are held
                    continue
                self._copy_range(claim, pace, should_stop, on_batch)
                claiming.rollback()  # releases the claim
        return pace.copied

    def _copy_range(
        self,
        claim: RangeClaim,
        pace: Pace,
        should_stop: Callable[[], bool],
        on_batch: OnRangeBatch | None,
    ) -> None:
        while not should_stop():
            reasons = self._pacer.wait(pace.copied, pace.started, should_stop)
            if should_stop():
                return
            size = pace.size
            began = self._clock.monotonic()
            outcome = self._batch(claim, size)
            seconds = self._clock.monotonic() - began
            self._pacer.rest(seconds, should_stop, outcome.finished)
            pace.copied += outcome.rows
            pace.size, pace.rate = next_batch_size(
                self._job.batch, BatchTiming(size, outcome.rows, seconds), pace.rate
            )
            if on_batch is not None:
                on_batch(size, seconds, pace.size, reasons)
            if outcome.finished:
                return

    def _batch(self, claim: RangeClaim, size: int) -> BatchOutcome:
        """One batch of a claimed range, its checkpoint moved in the same transaction."""
        checkpoints = RANGE_CHECKPOINTS.c
        mine = (checkpoints.job == self._job.name) & (checkpoints.range_no == claim.range_no)
        with self._databases.target.begin() as connection:
            row = connection.execute(
                select(RANGE_CHECKPOINTS).where(mine).with_for_update()
            ).first()
            if row is None:
                raise Conflict(f"backfill {self._job.name!r}: its key ranges changed under it")
            if row.finished:
                return BatchOutcome(0, decode_key(row.last_key), True, row.rows_done, row.batches)
            outcome = self._copier.copy(connection, decode_key(row.last_key), size, claim.high)
            outcome.rows_done = row.rows_done + outcome.rows
            outcome.batches = row.batches + 1
            connection.execute(
                update(RANGE_CHECKPOINTS)
                .where(mine)
                .values(
                    last_key=encode_key(outcome.last_key),
                    rows_done=outcome.rows_done,
                    batches=outcome.batches,
                    batch_size=size,
                    finished=outcome.finished,
                    worker=self.worker,
                    updated_at=self._clock.now().isoformat(),
                )
            )
        return outcome

    def fold(self) -> BatchOutcome:
        """The job's totals; once every range is copied, fold them into the job's checkpoint
        (finished) and forget the ranges, in one transaction."""
        name = self._job.name
        with self._databases.target.begin() as connection:
            row = connection.execute(
                select(CHECKPOINTS).where(CHECKPOINTS.c.job == name).with_for_update()
            ).one()
            totals = range_totals(connection, name)
            rows_done = row.rows_done + totals.rows_done
            batches = row.batches + totals.batches
            if not totals.complete:
                return BatchOutcome(0, decode_key(row.last_key), row.finished, rows_done, batches)
            connection.execute(
                update(CHECKPOINTS)
                .where(CHECKPOINTS.c.job == name)
                .values(
                    last_key=totals.last_key,
                    rows_done=rows_done,
                    batches=batches,
                    finished=True,
                    updated_at=self._clock.now().isoformat(),
                )
            )
            delete_ranges(connection, name)
        return BatchOutcome(0, decode_key(totals.last_key), True, rows_done, batches)
