"""A ranged run: its key ranges worked by one worker here or by worker processes, watched.

The coordinator splits the keys (once), then either works the ranges itself (one worker) or
starts ``workers`` processes (``parallel.py``) and polls the ranges' checkpoints: it reports
and mirrors the progress, replaces a worker that died, stops them all when asked to, and in
the end folds the finished ranges into the job's checkpoint.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

from rheostat.backfill import BackfillJob, decode_key, encode_key, job_to_dict, progress
from rheostat.clock import Clock
from rheostat.errors import ConfigurationError, StorageError, ValidationError
from rheostat.runner.checkpoints import Checkpoint
from rheostat.runner.copier import Transform
from rheostat.runner.databases import Databases
from rheostat.runner.mirror import StoreMirror
from rheostat.runner.pace import IDLE_SLICE_SECONDS
from rheostat.runner.parallel import WorkerPool
from rheostat.runner.ranged import KeyRanges, OnRangeBatch
from rheostat.runner.ranges import RangeTotals
from rheostat.runner.reports import BatchOutcome, BatchReport, RunResult, batch_report

__all__ = ["CRASHES_PER_WORKER", "POLL_SECONDS", "RangedRun", "worker_count"]

POLL_SECONDS = 0.5
"""How often a parallel run's coordinator sums its ranges (progress, the store, its workers)."""
CRASHES_PER_WORKER = 3
"""A parallel run fails once its workers died this many times each, on average."""


class WorkRanges(Protocol):
    """One worker in this process (``BackfillRunner.work_ranges``): the rows it copied."""

    def __call__(
        self, *, should_stop: Callable[[], bool], on_batch: OnRangeBatch | None
    ) -> int: ...


def worker_count(
    job: BackfillJob, workers: int | None, *, dialect: str, transform: Transform | None
) -> int:
    """The run's workers (``None``: the job's ``parallel.workers``), checked.

    Raises:
        ValidationError: fewer than one.
        ConfigurationError: more than one on a database without ``SKIP LOCKED``, or with a
            transform given as a function (worker processes import it by its path).
    """
    count = job.workers if workers is None else workers
    if count < 1:
        raise ValidationError(f"backfill {job.name!r}: workers must be at least 1")
    if count > 1 and dialect != "postgresql":
        raise ConfigurationError(
            f"backfill {job.name!r}: {count} parallel workers need PostgreSQL "
            f"(they claim key ranges with SKIP LOCKED); {dialect} "
            "takes one writer at a time: run with --workers 1",
            details={"path": "parallel.workers", "workers": count},
        )
    if count > 1 and transform is not None and job.transform is None:
        raise ConfigurationError(
            "parallel workers run the job's transform by its import path; "
            "this runner was given a function instead",
            details={"path": "transform"},
        )
    return count


class RangedRun:
    """Runs ``job`` by its key ranges."""

    def __init__(
        self,
        job: BackfillJob,
        databases: Databases,
        *,
        ranges: KeyRanges,
        mirror: StoreMirror,
        clock: Clock,
    ) -> None:
        self.job = job
        self.ranges = ranges
        self.mirror = mirror
        self.clock = clock
        self._databases = databases

    def run(
        self,
        checkpoint: Checkpoint,
        workers: int,
        should_stop: Callable[[], bool],
        on_batch: Callable[[BatchReport], None] | None,
        *,
        work: WorkRanges,
    ) -> RunResult:
        """Copy the ranges after ``checkpoint`` with ``workers`` workers (``work``: one
        worker, when it works in this process)."""
        clock = self.clock
        started = clock.monotonic()
        rows_total = self._databases.count_source()
        self.ranges.split(checkpoint, rows_total, workers)
        before = self.ranges.totals()
        watch = _RangeWatch(self, checkpoint, before, rows_total, started, on_batch)
        if workers == 1:
            status = self._work_here(watch, should_stop, work)
        else:
            status = self._work_in_processes(watch, workers, should_stop)
        self.mirror.flush()
        final = self.ranges.fold()
        if status == "completed" and not final.finished:
            status = "stopped"
        elapsed = clock.monotonic() - started
        copied = final.rows_done - checkpoint.rows_done - before.rows_done
        return RunResult(
            name=self.job.name,
            status=status,
            rows_done=final.rows_done,
            rows_total=rows_total,
            rows_copied=copied,
            batches=final.batches - checkpoint.batches - before.batches,
            seconds=elapsed,
            rows_per_second=copied / elapsed if elapsed > 0 else 0.0,
            last_key=encode_key(final.last_key),
        )

    def _work_here(
        self, watch: _RangeWatch, should_stop: Callable[[], bool], work: WorkRanges
    ) -> str:
        """One worker, in this process: claim ranges until none is left."""
        paused = False

        def stopping() -> bool:
            return paused or should_stop()

        def batch_done(size: int, seconds: float, next_size: int, reasons: tuple[str, ...]) -> None:
            nonlocal paused
            paused = watch.report(size, seconds, next_size, reasons) == "pausing" or paused

        work(should_stop=stopping, on_batch=batch_done)
        if paused:
            return "paused"
        return "stopped" if should_stop() else "completed"

    def _work_in_processes(
        self, watch: _RangeWatch, workers: int, should_stop: Callable[[], bool]
    ) -> str:
        """``workers`` worker processes claim the ranges; this one watches them, mirrors the
        progress, replaces a worker that died, and stops them all when asked to."""
        job = self.job
        document = _worker_document(job, workers)
        pool = WorkerPool(document, workers, max_crashes=CRASHES_PER_WORKER * workers)
        status = "completed"
        try:
            pool.fill()
            watch.pids = pool.pids
            while True:
                deadline = self.clock.monotonic() + POLL_SECONDS
                while self.clock.monotonic() < deadline and not should_stop():
                    self.clock.sleep(IDLE_SLICE_SECONDS / 2)
                size = job.batch.size
                requested = watch.report(size, 0.0, size, (), poll=True)
                if watch.complete:
                    break
                if should_stop() or requested == "pausing":
                    status = "paused" if requested == "pausing" else "stopped"
                    break
                if not pool.reap():
                    raise StorageError(
                        f"backfill {job.name!r}: parallel workers failed {pool.crashes} "
                        f"times (last exit status {pool.last_exit}); see their errors above",
                        details={"backfill": job.name, "crashes": pool.crashes},
                    )
                pool.fill()  # a worker that died is replaced; its range is taken over
                watch.pids = pool.pids
        finally:
            pool.stop()
        return status


def _worker_document(job: BackfillJob, workers: int) -> dict[str, Any]:
    """The job as its worker processes read it: URLs expanded (the environment is private to
    its user), no ``parallel`` section, and each worker's share of the rate limit."""
    document = job_to_dict(job)
    document["source"]["url"] = job.source.url
    document["target"]["url"] = job.target.url
    document.pop("parallel", None)
    limit = job.throttle.max_rows_per_second
    document["throttle"]["max_rows_per_second"] = limit / workers  # the limit is shared
    return document


class _RangeWatch:
    """A ranged run's progress: sums the ranges' checkpoints, reports each change (a
    ``BatchReport``, the store's mirror) and says whether the store asked to pause."""

    def __init__(
        self,
        run: RangedRun,
        checkpoint: Checkpoint,
        before: RangeTotals,
        rows_total: int,
        started: float,
        on_batch: Callable[[BatchReport], None] | None,
    ) -> None:
        self._run = run
        self._checkpoint = checkpoint
        self._before = before
        self._seen = before.rows_done
        self._rows_total = rows_total
        self._started = started
        self._on_batch = on_batch
        self.complete = before.complete
        self.copied = 0
        self.pids: tuple[int, ...] = ()

    def report(
        self,
        size: int,
        seconds: float,
        next_size: int,
        reasons: tuple[str, ...],
        *,
        poll: bool = False,
    ) -> str | None:
        """Sum the ranges; report and mirror when rows moved (or at the end)."""
        run = self._run
        totals = run.ranges.totals()
        self.complete = totals.complete
        self.copied = totals.rows_done - self._before.rows_done
        if poll and totals.rows_done == self._seen and not totals.complete:
            return None
        outcome = BatchOutcome(
            totals.rows_done - self._seen,
            decode_key(totals.last_key),
            totals.complete,
            self._checkpoint.rows_done + totals.rows_done,
            self._checkpoint.batches + totals.batches,
        )
        self._seen = totals.rows_done
        now = progress(
            outcome.rows_done, self._rows_total, self.copied, run.clock.monotonic() - self._started
        )
        requested = run.mirror.mirror(outcome, size, seconds, self._rows_total, now)
        if self._on_batch is not None:
            report = batch_report(outcome, size, next_size, seconds, now, reasons)
            self._on_batch(replace(report, workers=self.pids))
        return requested
