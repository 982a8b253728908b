"""A run by one loop in this process: batch after batch from the job's checkpoint.

Before each batch the pacer may hold it back; each batch commits with its checkpoint; after
it the batch size adapts to the target duration, the progress is reported and mirrored, and a
``pausing`` status in the store stops the loop at that batch boundary.
"""

from __future__ import annotations

from collections.abc import Callable

from rheostat.backfill import (
    BackfillJob,
    BatchTiming,
    decode_key,
    encode_key,
    next_batch_size,
    progress,
)
from rheostat.clock import Clock
from rheostat.runner.checkpoints import Checkpoint, Checkpoints
from rheostat.runner.databases import Databases
from rheostat.runner.mirror import StoreMirror
from rheostat.runner.pace import Pacer
from rheostat.runner.reports import BatchOutcome, BatchReport, RunResult, batch_report

__all__ = ["SerialRun"]


class SerialRun:
    """Runs ``job`` batch by batch after its checkpoint: ``run`` copies until done, until
    ``should_stop()`` between two batches, or until the store asks to pause."""

    def __init__(
        self,
        job: BackfillJob,
        databases: Databases,
        *,
        checkpoints: Checkpoints,
        pacer: Pacer,
        mirror: StoreMirror,
        clock: Clock,
    ) -> None:
        self._job = job
        self._databases = databases
        self._checkpoints = checkpoints
        self._pacer = pacer
        self._mirror = mirror
        self._clock = clock

    def run(
        self,
        checkpoint: Checkpoint,
        should_stop: Callable[[], bool],
        on_batch: Callable[[BatchReport], None] | None,
    ) -> RunResult:
        clock = self._clock
        started = clock.monotonic()
        rows_total = self._databases.count_source()
        size = checkpoint.batch_size or self._job.batch.size
        rate: float | None = None
        run_rows = run_batches = 0
        last = BatchOutcome(
            0,
            decode_key(checkpoint.last_key),
            checkpoint.finished,
            checkpoint.rows_done,
            checkpoint.batches,
        )
        status = "completed"
        while not last.finished:
            reasons = self._pacer.wait(run_rows, started, should_stop)
            if should_stop():
                status = "stopped"
                break
            batch_started = clock.monotonic()
            last = self._checkpoints.copy_batch(size)
            seconds = clock.monotonic() - batch_started
            self._pacer.rest(seconds, should_stop, last.finished)
            run_rows += last.rows
            run_batches += 1
            next_size, rate = next_batch_size(
                self._job.batch, BatchTiming(size, last.rows, seconds), rate
            )
            now = progress(last.rows_done, rows_total, run_rows, clock.monotonic() - started)
            requested = self._mirror.mirror(last, size, seconds, rows_total, now)
            if on_batch is not None:
                on_batch(batch_report(last, size, next_size, seconds, now, reasons))
            size = next_size
            if not last.finished and requested == "pausing":
                status = "paused"
                break
        self._mirror.flush()
        elapsed = clock.monotonic() - started
        return RunResult(
            name=self._job.name,
            status=status,
            rows_done=last.rows_done,
            rows_total=rows_total,
            rows_copied=run_rows,
            batches=run_batches,
            seconds=elapsed,
            rows_per_second=run_rows / elapsed if elapsed > 0 else 0.0,
            last_key=encode_key(last.last_key),
        )
