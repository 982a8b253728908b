"""``BackfillRunner``: copies a job's rows in keyset batches, resumably, and verifies the copy.

Each batch is one transaction on the target database that

1. locks the job's checkpoint row (``rheostat_backfill_checkpoints``, created in the target
   database; ``FOR UPDATE`` on PostgreSQL, the write lock on SQLite), so two workers on one
   job take turns and never copy from a stale position;
2. copies the next ``size`` source rows after the checkpoint's key, as an upsert on the
   target key (redoing a batch changes nothing): server-side with one ``INSERT ... SELECT ...
   ON CONFLICT`` when source and target are one database and no Python transform runs,
   otherwise read from the source, transformed, and written with executemany;
3. moves the checkpoint (last key, rows done, batches, batch size) in the same transaction.

So a crash at any instant, SIGKILL included, leaves either the batch and its checkpoint or
neither: ``resume`` continues with no row lost or copied twice, whichever database the
source is in. After the commit, the runner mirrors the checkpoint into rheostat's store (status
pages, the API, ``pause``) and renews its lease on the job.
"""

from __future__ import annotations

import itertools
import json
import os
import socket
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
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
    insert,
    inspect,
    make_url,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, NoSuchTableError, SQLAlchemyError

from rheostat import service
from rheostat.backfill import (
    BackfillJob,
    BatchTiming,
    ChunkSum,
    Progress,
    Strategy,
    ThrottleReading,
    VerifyReport,
    choose_strategy,
    compare_chunks,
    decide_throttle,
    decode_key,
    encode_key,
    job_essence,
    job_fingerprint,
    job_to_dict,
    next_batch_size,
    nice_wait,
    progress,
    range_split,
    same_database,
    sum_rows,
)
from rheostat.clock import Clock, SystemClock
from rheostat.errors import (
    ConfigurationError,
    Conflict,
    NotFound,
    RheostatError,
    StorageError,
    ValidationError,
)
from rheostat.runner.parallel import WorkerPool
from rheostat.runner.probes import read_probes, replication_lag, resolve
from rheostat.runner.ranges import (
    RANGE_CHECKPOINTS,
    RANGES,
    RangeClaim,
    RangeTotals,
    claim_range,
    delete_ranges,
    range_tables,
    range_totals,
)
from rheostat.runner.sql import (
    READ_ONLY,
    SERVER_HASH_DIALECTS,
    BatchSql,
    column_types,
    key_params,
    open_engine,
    quote_name,
)

__all__ = [
    "CHECKPOINT_TABLE",
    "BackfillRunner",
    "BatchReport",
    "DryRunReport",
    "RunResult",
    "VerifyOutcome",
    "default_worker",
]

CHECKPOINT_TABLE = "rheostat_backfill_checkpoints"
DEFAULT_LEASE_SECONDS = 60.0
VERIFY_CHUNK_ROWS = 100_000
"""Rows per verify chunk by default: a difference is reported (and repaired) to this range."""
MIRROR_SECONDS = 1.0
"""Progress reaches the store at most this often: the authoritative checkpoint is already
committed with each batch, and one store transaction per batch would cost more than the
batch itself on small batches (an fsync each, on SQLite)."""
_MAX_STORED_DIFFERENCES = 100
_IDLE_SLICE_SECONDS = 0.2
POLL_SECONDS = 0.5
"""How often a parallel run's coordinator sums its ranges (progress, the store, its workers)."""
CRASHES_PER_WORKER = 3
"""A parallel run fails once its workers died this many times each, on average."""

_PG_UNIQUE_KEY = """
SELECT 1 FROM pg_index AS i
WHERE i.indrelid = CAST(:table AS regclass) AND i.indisunique AND i.indpred IS NULL
  AND (SELECT array_agg(a.attname::text ORDER BY a.attname::text COLLATE "C") FROM pg_attribute AS a
       WHERE a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)) = CAST(:columns AS text[])
  AND i.indnkeyatts = cardinality(CAST(:columns AS text[]))
LIMIT 1
"""
"""A unique index (the primary key's included) on exactly the key columns, on PostgreSQL."""


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


def default_worker() -> str:
    """``host:pid``: who holds a job's lease."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchReport:
    """One committed batch, for progress bars and ``--json`` lines."""

    batch: int
    rows: int
    seconds: float
    size: int
    next_size: int
    rows_done: int
    rows_total: int | None
    rows_per_second: float
    eta_seconds: float | None
    percent: float | None
    last_key: str | None
    finished: bool
    throttled: tuple[str, ...] = ()
    workers: tuple[int, ...] = ()
    """The process ids of a parallel run's workers (empty: this process copies)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RunResult:
    """How a run ended: ``completed``, ``stopped`` or ``paused`` at a batch boundary."""

    name: str
    status: str
    rows_done: int
    rows_total: int | None
    rows_copied: int
    batches: int
    seconds: float
    rows_per_second: float
    last_key: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class DryRunReport:
    """What a run would do, from a count and one sample batch rolled back."""

    name: str
    strategy: str
    rows_total: int
    rows_done: int
    rows_remaining: int
    sample_rows: int
    sample_seconds: float
    rows_per_second: float
    estimated_seconds: float | None
    checkpoint: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyOutcome:
    """A verify pass: the report, and after a repair the report of the pass that followed."""

    name: str
    mode: str
    report: VerifyReport
    repaired: int = 0
    after_repair: VerifyReport | None = None

    @property
    def final(self) -> VerifyReport:
        """The last word: after the repair if there was one."""
        return self.after_repair or self.report

    @property
    def identical(self) -> bool:
        """Zero differences at the end: the only state that allows a cut-over."""
        return self.final.identical

    def to_dict(self) -> dict[str, Any]:
        """JSON form (CLI ``--json``, the store)."""
        document = {
            "name": self.name,
            "mode": self.mode,
            **_report_dict(self.report),
            "repaired": self.repaired,
            "identical": self.identical,
            "cut_over": "allowed" if self.identical else "refused",
        }
        if self.after_repair is not None:
            document["after_repair"] = _report_dict(self.after_repair)
        return document


@dataclass(slots=True)
class _Outcome:
    rows: int
    last_key: tuple[Any, ...] | None
    finished: bool
    rows_done: int = 0
    batches: int = 0


@dataclass(slots=True)
class _Pace:
    """A worker's batch size, running rate and rows copied, carried from range to range."""

    size: int
    started: float
    rate: float | None = None
    copied: int = 0


@dataclass(slots=True)
class _Checkpoint:
    last_key: str | None
    rows_done: int
    batches: int
    batch_size: int
    finished: bool
    fingerprint: str
    essence: Mapping[str, Any] = field(default_factory=dict)


class BackfillRunner:
    """Runs one job against its databases; mirrors progress into ``store`` when given.

    Args:
        store: rheostat's store (jobs, lease, progress, verify results); ``None`` to run
            without one (the target's checkpoint table alone makes it resumable).
        clock: time for rates, throttling and timestamps.
        actor: who runs it (audit log).
        worker: who holds the lease (``host:pid`` by default).
        transform: the per-batch function; by default the job's ``transform`` import path.
    """

    def __init__(
        self,
        job: BackfillJob,
        *,
        store: service.SqlStore | None = None,
        clock: Clock | None = None,
        actor: str = "backfill",
        worker: str | None = None,
        transform: Callable[[list[dict[str, Any]]], Sequence[Mapping[str, Any]]] | None = None,
    ) -> None:
        self.job = job
        self.fingerprint = job_fingerprint(job)
        self.strategy = choose_strategy(job)
        self._store = store
        self._clock = clock or SystemClock()
        self._actor = actor
        self.worker = worker or default_worker()
        self._lease_seconds = DEFAULT_LEASE_SECONDS
        self._mirrored: float | None = None
        self._unmirrored: tuple[_Outcome, int, float, int | None, Progress] | None = None
        self.mirror_seconds = MIRROR_SECONDS
        """Least time between two progress mirrors into the store (the first and the last
        batch are always mirrored); 0 mirrors every batch."""
        self._transform = transform
        if transform is None and job.transform is not None:
            self._transform = resolve(job.transform, "transform")
        self._source = open_engine(job.source.url)
        shared = same_database(job.source.url, job.target.url)
        self._target = self._source if shared else open_engine(job.target.url)
        self.sql = BatchSql(job, self._source.dialect, self._target.dialect)
        self._target_table: Table | None = None
        self._types: tuple[str, ...] | None = None

    def close(self) -> None:
        """Release the database connections."""
        self._source.dispose()
        if self._target is not self._source:
            self._target.dispose()

    def __enter__(self) -> BackfillRunner:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- plan ----------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        """The plan: what would run, and the SQL of one batch (no connection is made)."""
        sql = self.sql
        document = job_to_dict(self.job)
        for side, endpoint in (("source", self.job.source), ("target", self.job.target)):
            document[side]["url"] = _redacted(endpoint.url)
        if self.strategy is Strategy.SERVER_SIDE:
            copy = [sql.insert_select(low=True, high=True)]
        else:
            copy = [sql.select_rows(low=True, high=False, limit=True), "upsert with executemany"]
        mode = self.verify_mode
        return {
            "name": self.job.name,
            "strategy": self.strategy.value,
            "fingerprint": self.fingerprint,
            "job": document,
            "checkpoint_table": CHECKPOINT_TABLE,
            "verify_mode": mode,
            "statements": {
                "batch_end": sql.boundary(low=True),
                "copy": copy,
                "checksum_source": sql.checksum("source", low=True, high=True)
                if mode == "database"
                else "rows hashed in Python",
                "checksum_target": sql.checksum("target", low=True, high=True)
                if mode == "database"
                else "rows hashed in Python",
            },
        }

    @property
    def verify_mode(self) -> str:
        """``database`` when both sides compute the same checksum themselves, else ``python``."""
        dialects = {self._source.dialect.name, self._target.dialect.name}
        if self._transform is None and len(dialects) == 1 and dialects <= set(SERVER_HASH_DIALECTS):
            return "database"
        return "python"

    # -- dry run -------------------------------------------------------------------------
    def dry_run(self) -> DryRunReport:
        """Count the rows and time one batch that is rolled back: nothing is written."""
        with _storage_errors():
            self._prepare_target(create=False)
            rows_total = self._count_source()
            checkpoint = self._read_checkpoint()
            last = None if checkpoint is None else decode_key(checkpoint.last_key)
            rows_done = 0 if checkpoint is None else checkpoint.rows_done
            size = self.job.batch.size
            with self._target.connect() as connection:
                transaction = connection.begin()
                try:
                    started = self._clock.monotonic()
                    outcome = self._copy(connection, last, size)
                    seconds = self._clock.monotonic() - started
                finally:
                    transaction.rollback()
        remaining = max(rows_total - rows_done, 0)
        rate = outcome.rows / seconds if seconds > 0 and outcome.rows else 0.0
        return DryRunReport(
            name=self.job.name,
            strategy=self.strategy.value,
            rows_total=rows_total,
            rows_done=rows_done,
            rows_remaining=remaining,
            sample_rows=outcome.rows,
            sample_seconds=seconds,
            rows_per_second=rate,
            estimated_seconds=remaining / rate if rate > 0 else (0.0 if remaining == 0 else None),
            checkpoint=checkpoint is not None,
        )

    # -- run -----------------------------------------------------------------------------
    def run(
        self,
        *,
        restart: bool = False,
        resume: bool = False,
        should_stop: Callable[[], bool] = lambda: False,
        on_batch: Callable[[BatchReport], None] | None = None,
        workers: int | None = None,
    ) -> RunResult:
        """Copy until done, or until ``should_stop()`` says so between batches.

        Args:
            restart: forget the checkpoint and start from the first key (rows already in the
                target are overwritten, never duplicated).
            resume: require an existing checkpoint (``NotFound`` otherwise).
            workers: parallel workers (default: the job's ``parallel.workers``). Above 1, the
                keys after the checkpoint are split into ranges that worker processes claim
                with ``SKIP LOCKED`` (PostgreSQL only); a run that finds ranges left by an
                earlier parallel run goes on with them, whatever its number of workers.

        Raises:
            ValidationError: the checkpoint was made by a job with another source, key,
                columns or transform (it is refused, never silently restarted).
            ConfigurationError: more than one worker on a database without ``SKIP LOCKED``.
            Conflict: another worker holds the job's lease.
            StorageError: a database failed; the batch in flight was rolled back.
        """
        count = self._workers(workers)
        with _storage_errors():
            self._prepare_target(create=True)
            checkpoint = self._open_checkpoint(restart=restart, resume=resume)
            ranged = not checkpoint.finished and (count > 1 or self._totals().ranges > 0)
        self._claim(restart=restart)
        status, error = "failed", None
        try:
            with _storage_errors():
                if ranged:
                    result = self._ranged_loop(checkpoint, count, should_stop, on_batch)
                else:
                    result = self._loop(checkpoint, should_stop, on_batch)
            status = result.status
            return result
        except RheostatError as failure:
            error = failure.message
            raise
        except Exception as failure:
            error = f"{type(failure).__name__}: {failure}"
            raise
        finally:
            self._call_store(
                service.finish_backfill,
                self.job.name,
                worker=self.worker,
                status=status,
                error=error,
                change=self._change(status),
            )

    def _loop(
        self,
        checkpoint: _Checkpoint,
        should_stop: Callable[[], bool],
        on_batch: Callable[[BatchReport], None] | None,
    ) -> RunResult:
        clock = self._clock
        started = clock.monotonic()
        rows_total = self._count_source()
        size = checkpoint.batch_size or self.job.batch.size
        rate: float | None = None
        run_rows = run_batches = 0
        last = _Outcome(
            0,
            decode_key(checkpoint.last_key),
            checkpoint.finished,
            checkpoint.rows_done,
            checkpoint.batches,
        )
        status = "completed"
        while not last.finished:
            reasons = self._throttle(run_rows, started, should_stop)
            if should_stop():
                status = "stopped"
                break
            batch_started = clock.monotonic()
            last = self._batch(size)
            seconds = clock.monotonic() - batch_started
            self._rest(seconds, should_stop, last.finished)
            run_rows += last.rows
            run_batches += 1
            next_size, rate = next_batch_size(
                self.job.batch, BatchTiming(size, last.rows, seconds), rate
            )
            now = progress(last.rows_done, rows_total, run_rows, clock.monotonic() - started)
            requested = self._mirror(last, size, seconds, rows_total, now)
            if on_batch is not None:
                on_batch(_report(last, size, next_size, seconds, now, reasons))
            size = next_size
            if not last.finished and requested == "pausing":
                status = "paused"
                break
        self._flush_mirror()
        elapsed = clock.monotonic() - started
        return RunResult(
            name=self.job.name,
            status=status,
            rows_done=last.rows_done,
            rows_total=rows_total,
            rows_copied=run_rows,
            batches=run_batches,
            seconds=elapsed,
            rows_per_second=run_rows / elapsed if elapsed > 0 else 0.0,
            last_key=encode_key(last.last_key),
        )

    # -- parallel: key ranges -------------------------------------------------------------
    def _workers(self, workers: int | None) -> int:
        count = self.job.workers if workers is None else workers
        if count < 1:
            raise ValidationError(f"backfill {self.job.name!r}: workers must be at least 1")
        if count > 1 and self._target.dialect.name != "postgresql":
            raise ConfigurationError(
                f"backfill {self.job.name!r}: {count} parallel workers need PostgreSQL "
                f"(they claim key ranges with SKIP LOCKED); {self._target.dialect.name} "
                "takes one writer at a time: run with --workers 1",
                details={"path": "parallel.workers", "workers": count},
            )
        if count > 1 and self._transform is not None and self.job.transform is None:
            raise ConfigurationError(
                "parallel workers run the job's transform by its import path; "
                "this runner was given a function instead",
                details={"path": "transform"},
            )
        return count

    def _totals(self) -> RangeTotals:
        with self._target.connect().execution_options(**{READ_ONLY: True}) as connection:
            totals = range_totals(connection, self.job.name)
            connection.rollback()
        return totals

    def _split(self, checkpoint: _Checkpoint, rows_total: int, workers: int) -> None:
        """Split the keys after the checkpoint into ranges, unless an earlier run did: each
        of about the same number of source rows (found on the key's index, so composite keys
        split too), the last one open-ended."""
        name = self.job.name
        with self._target.begin() as connection:
            connection.execute(
                select(CHECKPOINTS.c.job).where(CHECKPOINTS.c.job == name).with_for_update()
            ).one()
            if range_totals(connection, name).ranges > 0:
                return
            count, per_range = range_split(rows_total - checkpoint.rows_done, workers)
            low = decode_key(checkpoint.last_key)
            bounds: list[tuple[Any, ...] | None] = [low]
            with self._source.connect().execution_options(**{READ_ONLY: True}) as source:
                for _ in range(count - 1):
                    high = self._boundary(source, bounds[-1], per_range)
                    if high is None:
                        break
                    bounds.append(high)
                source.rollback()
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
                        batch_size=self.job.batch.size,
                        finished=False,
                        worker=None,
                        updated_at=now,
                    )
                )

    def _ranged_loop(
        self,
        checkpoint: _Checkpoint,
        workers: int,
        should_stop: Callable[[], bool],
        on_batch: Callable[[BatchReport], None] | None,
    ) -> RunResult:
        clock = self._clock
        started = clock.monotonic()
        rows_total = self._count_source()
        self._split(checkpoint, rows_total, workers)
        before = self._totals()
        watch = _RangeWatch(self, checkpoint, before, rows_total, started, on_batch)
        if workers == 1:
            status = self._work_here(watch, should_stop)
        else:
            status = self._work_in_processes(watch, workers, should_stop)
        self._flush_mirror()
        final = self._fold()
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

    def _work_here(self, watch: _RangeWatch, should_stop: Callable[[], bool]) -> str:
        """One worker, in this process: claim ranges until none is left."""
        paused = False

        def stopping() -> bool:
            return paused or should_stop()

        def batch_done(size: int, seconds: float, next_size: int, reasons: tuple[str, ...]) -> None:
            nonlocal paused
            paused = watch.report(size, seconds, next_size, reasons) == "pausing" or paused

        self.work_ranges(should_stop=stopping, on_batch=batch_done)
        if paused:
            return "paused"
        return "stopped" if should_stop() else "completed"

    def _work_in_processes(
        self, watch: _RangeWatch, workers: int, should_stop: Callable[[], bool]
    ) -> str:
        """``workers`` worker processes claim the ranges; this one watches them, mirrors the
        progress, replaces a worker that died, and stops them all when asked to."""
        document = job_to_dict(self.job)
        document["source"]["url"] = self.job.source.url
        document["target"]["url"] = self.job.target.url
        document.pop("parallel", None)
        limit = self.job.throttle.max_rows_per_second
        document["throttle"]["max_rows_per_second"] = limit / workers  # the limit is shared
        pool = WorkerPool(document, workers, max_crashes=CRASHES_PER_WORKER * workers)
        status = "completed"
        try:
            pool.fill()
            watch.pids = pool.pids
            while True:
                deadline = self._clock.monotonic() + POLL_SECONDS
                while self._clock.monotonic() < deadline and not should_stop():
                    self._clock.sleep(_IDLE_SLICE_SECONDS / 2)
                size = self.job.batch.size
                requested = watch.report(size, 0.0, size, (), poll=True)
                if watch.complete:
                    break
                if should_stop() or requested == "pausing":
                    status = "paused" if requested == "pausing" else "stopped"
                    break
                if not pool.reap():
                    raise StorageError(
                        f"backfill {self.job.name!r}: parallel workers failed {pool.crashes} "
                        f"times (last exit status {pool.last_exit}); see their errors above",
                        details={"backfill": self.job.name, "crashes": pool.crashes},
                    )
                pool.fill()  # a worker that died is replaced; its range is taken over
                watch.pids = pool.pids
        finally:
            pool.stop()
        return status

    def work_ranges(
        self,
        *,
        should_stop: Callable[[], bool] = lambda: False,
        on_batch: Callable[[int, float, int, tuple[str, ...]], None] | None = None,
    ) -> int:
        """Be one parallel worker: claim the next free range, copy it batch by batch (each
        batch moves the range's checkpoint in its own transaction), and again, until every
        range is copied or ``should_stop()``; wait while the only ranges left are held by
        other workers (one that dies releases its claim). Returns the rows copied.

        Raises:
            ValidationError: the job's checkpoint was made by another definition.
        """
        with _storage_errors():
            self._prepare_target(create=True)
            self._check_fingerprint()
            locking = self._target.dialect.name == "postgresql"
            pace = _Pace(self.job.batch.size, self._clock.monotonic())
            while not should_stop():
                with self._target.connect() as claiming:
                    claiming.begin()
                    claim = claim_range(claiming, self.job.name, lock=locking)
                    if not locking or claim is None:
                        claiming.rollback()  # one worker holds nothing; or nothing to hold
                    if claim is None:
                        totals = self._totals()
                        if totals.finished == totals.ranges:
                            break
                        self._clock.sleep(_IDLE_SLICE_SECONDS)  # the rest are held
                        continue
                    self._copy_range(claim, pace, should_stop, on_batch)
                    claiming.rollback()  # releases the claim
        return pace.copied

    def _copy_range(
        self,
        claim: RangeClaim,
        pace: _Pace,
        should_stop: Callable[[], bool],
        on_batch: Callable[[int, float, int, tuple[str, ...]], None] | None,
    ) -> None:
        while not should_stop():
            reasons = self._throttle(pace.copied, pace.started, should_stop)
            if should_stop():
                return
            size = pace.size
            began = self._clock.monotonic()
            outcome = self._range_batch(claim, size)
            seconds = self._clock.monotonic() - began
            self._rest(seconds, should_stop, outcome.finished)
            pace.copied += outcome.rows
            pace.size, pace.rate = next_batch_size(
                self.job.batch, BatchTiming(size, outcome.rows, seconds), pace.rate
            )
            if on_batch is not None:
                on_batch(size, seconds, pace.size, reasons)
            if outcome.finished:
                return

    def _check_fingerprint(self) -> None:
        with self._target.connect().execution_options(**{READ_ONLY: True}) as connection:
            found = connection.execute(
                select(CHECKPOINTS.c.fingerprint).where(CHECKPOINTS.c.job == self.job.name)
            ).scalar()
            connection.rollback()
        if found is not None and found != self.fingerprint:
            raise ValidationError(
                f"backfill {self.job.name!r}: the checkpoint in the target database was made "
                "by another definition of this job; its ranges cannot be continued",
                details={"backfill": self.job.name},
            )

    def _range_batch(self, claim: RangeClaim, size: int) -> _Outcome:
        """One batch of a claimed range, its checkpoint moved in the same transaction."""
        checkpoints = RANGE_CHECKPOINTS.c
        mine = (checkpoints.job == self.job.name) & (checkpoints.range_no == claim.range_no)
        with self._target.begin() as connection:
            row = connection.execute(
                select(RANGE_CHECKPOINTS).where(mine).with_for_update()
            ).first()
            if row is None:
                raise Conflict(f"backfill {self.job.name!r}: its key ranges changed under it")
            if row.finished:
                return _Outcome(0, decode_key(row.last_key), True, row.rows_done, row.batches)
            outcome = self._copy(connection, decode_key(row.last_key), size, claim.high)
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

    def _fold(self) -> _Outcome:
        """The job's totals; once every range is copied, fold them into the job's checkpoint
        (finished) and forget the ranges, in one transaction."""
        name = self.job.name
        with self._target.begin() as connection:
            row = connection.execute(
                select(CHECKPOINTS).where(CHECKPOINTS.c.job == name).with_for_update()
            ).one()
            totals = range_totals(connection, name)
            rows_done = row.rows_done + totals.rows_done
            batches = row.batches + totals.batches
            if not totals.complete:
                return _Outcome(0, decode_key(row.last_key), row.finished, rows_done, batches)
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
        return _Outcome(0, decode_key(totals.last_key), True, rows_done, batches)

    def _rest(self, seconds: float, should_stop: Callable[[], bool], finished: bool) -> None:
        """After a batch, rest ``nice_ratio`` times its duration (sliced: a stop is heard)."""
        rest = 0.0 if finished else nice_wait(self.job.throttle, seconds)
        until = self._clock.monotonic() + rest
        while rest > 0 and not should_stop():
            left = until - self._clock.monotonic()
            if left <= 0:
                break
            self._clock.sleep(min(left, _IDLE_SLICE_SECONDS))

    def _throttle(
        self, run_rows: int, started: float, should_stop: Callable[[], bool]
    ) -> tuple[str, ...]:
        throttle = self.job.throttle
        limits = (throttle.max_rows_per_second, throttle.replication_lag_seconds)
        if max(limits) <= 0 and not throttle.probes:
            return ()
        engines = {"source": self._source, "target": self._target}
        reasons: tuple[str, ...] = ()
        while not should_stop():
            lag = replication_lag(self._source) if throttle.replication_lag_seconds > 0 else None
            reading = ThrottleReading(
                rows_done_in_window=run_rows,
                window_seconds=self._clock.monotonic() - started,
                replication_lag_seconds=lag,
                probes=read_probes(self.job, engines, self._clock),
            )
            decision = decide_throttle(throttle, reading)
            if decision.go:
                break
            reasons = decision.reasons
            self._clock.sleep(min(decision.wait_seconds, _IDLE_SLICE_SECONDS))
        return reasons

    def _batch(self, size: int) -> _Outcome:
        with self._target.begin() as connection:
            row = connection.execute(
                select(CHECKPOINTS).where(CHECKPOINTS.c.job == self.job.name).with_for_update()
            ).one()
            if row.fingerprint != self.fingerprint:
                raise Conflict(f"backfill {self.job.name!r}: its checkpoint changed under it")
            if row.finished:
                return _Outcome(0, decode_key(row.last_key), True, row.rows_done, row.batches)
            outcome = self._copy(connection, decode_key(row.last_key), size)
            outcome.rows_done = row.rows_done + outcome.rows
            outcome.batches = row.batches + 1
            connection.execute(
                update(CHECKPOINTS)
                .where(CHECKPOINTS.c.job == self.job.name)
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

    def _copy(
        self,
        connection: Connection,
        last: tuple[Any, ...] | None,
        size: int,
        end: tuple[Any, ...] | None = None,
    ) -> _Outcome:
        """Copy the ``size`` rows after ``last`` (and not past ``end``, a parallel worker's
        range end; ``None``: the end of the table) inside ``connection``'s transaction."""
        sql = self.sql
        if self.strategy is Strategy.SERVER_SIDE:
            high = self._boundary(connection, last, size, end)
            if high is None:
                final = connection.execute(
                    text(sql.last_key(low=last is not None, high=end is not None)),
                    key_params(last, end),
                ).first()
                if final is None:
                    return _Outcome(0, last if end is None else end, True)
                high_key: tuple[Any, ...] = tuple(final)
            else:
                high_key = high
            copied = self._into_range(
                connection,
                last,
                high_key,
                plain=lambda: (
                    connection.execute(
                        text(sql.insert_select(low=last is not None, high=True, upsert=False)),
                        key_params(last, high_key),
                    ).rowcount
                ),
                upsert=lambda: (
                    connection.execute(
                        text(sql.insert_select(low=last is not None, high=True)),
                        key_params(last, high_key),
                    ).rowcount
                ),
            )
            return _Outcome(max(copied, 0), high_key, high is None)
        rows, read, new_last = self._read(connection, last, end, limit=size)
        if new_last is None:
            return _Outcome(0, last if end is None else end, True)
        # the key and the count are the source's: a transform may drop or reorder rows
        self._write(connection, rows, last, new_last)
        return _Outcome(read, new_last, read < size)

    def _into_range(
        self,
        connection: Connection,
        low: tuple[Any, ...] | None,
        high: tuple[Any, ...],
        *,
        plain: Callable[[], int],
        upsert: Callable[[], int],
    ) -> int:
        """Write a batch whose keys are ``(low, high]``: a plain INSERT when the target holds
        no row in that range (the usual case, and about twice as fast on PostgreSQL as
        ``ON CONFLICT``), else the upsert. A row that appears in the range meanwhile (an
        application writing the new table) makes the plain INSERT fail on the key; it is
        rolled back to a savepoint and the batch is written with the upsert instead."""
        if not self.sql.upserts:
            return upsert()
        occupied = connection.execute(
            text(self.sql.any_target_row(low=low is not None)), key_params(low, high)
        ).first()
        if occupied is not None:
            return upsert()
        try:
            with connection.begin_nested():
                return plain()
        except IntegrityError:
            return upsert()

    def _boundary(
        self,
        connection: Connection,
        low: tuple[Any, ...] | None,
        rows: int,
        end: tuple[Any, ...] | None = None,
    ) -> tuple[Any, ...] | None:
        found = connection.execute(
            text(self.sql.boundary(low=low is not None, high=end is not None)),
            {**key_params(low, end), "offset": rows - 1},
        ).first()
        return None if found is None else tuple(found)

    def _read(
        self,
        connection: Connection | None,
        low: tuple[Any, ...] | None,
        high: tuple[Any, ...] | None,
        *,
        limit: int | None,
    ) -> tuple[list[dict[str, Any]], int, tuple[Any, ...] | None]:
        """Source rows of ``(low, high]`` (at most ``limit``) as target-column dicts,
        transformed; with the number of source rows read and the last source key read."""
        statement = text(
            self.sql.select_rows(
                low=low is not None, high=high is not None, limit=limit is not None
            )
        )
        params = key_params(low, high)
        if limit is not None:
            params["limit"] = limit
        if connection is not None and self._target is self._source:
            result = connection.execute(statement, params)
            rows = [dict(row._mapping) for row in result]
        else:
            with self._source.connect().execution_options(**{READ_ONLY: True}) as source:
                rows = [dict(row._mapping) for row in source.execute(statement, params)]
                source.rollback()
        last = self._key_of(rows[-1]) if rows else None
        if self._transform is None or not rows:
            return rows, len(rows), last
        columns = self.job.target_columns
        transformed = self._transform(rows)
        return [{c: item.get(c) for c in columns} for item in transformed], len(rows), last

    def _key_of(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(row[column] for column in self.job.target.key)

    def _write(
        self,
        connection: Connection,
        rows: list[dict[str, Any]],
        low: tuple[Any, ...] | None,
        high: tuple[Any, ...] | None,
    ) -> None:
        table = self._table(connection)
        dialect = self._target.dialect.name
        if not self.sql.upserts:
            connection.execute(
                text(self.sql.delete_range(low=low is not None, high=high is not None)),
                key_params(low, high),
            )
            if rows:
                connection.execute(insert(table), rows)
            return
        if not rows:
            return
        assert high is not None  # noqa: S101 - rows were read, so the range has an end
        statement = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(table)
        keys = list(self.job.target.key)
        others = [c for c in self.job.target_columns if c not in keys]
        if others:
            upsert = statement.on_conflict_do_update(
                index_elements=keys, set_={c: statement.excluded[c] for c in others}
            )
        else:
            upsert = statement.on_conflict_do_nothing(index_elements=keys)
        self._into_range(
            connection,
            low,
            high,
            plain=lambda: connection.execute(insert(table), rows).rowcount,
            upsert=lambda: connection.execute(upsert, rows).rowcount,
        )

    def _table(self, connection: Connection) -> Table:
        """The target table, reflected once through ``connection`` (inside its transaction:
        on SQLite another connection would wait for the batch's own write lock)."""
        if self._target_table is None:
            self._target_table = self._reflect(connection)
        return self._target_table

    # -- checkpoints -----------------------------------------------------------------------
    def _prepare_target(self, *, create: bool) -> None:
        """Check the target table and its columns exist and that its key is unique; with
        ``create``, create the checkpoint table if it is missing.

        One probe query and, on PostgreSQL, one catalog query: reflecting the table costs
        more than a small backfill. Reflection runs only to explain a failed probe, and for
        the streamed strategy's executemany (``_table``).
        """
        sql = self.sql
        columns = ", ".join(quote_name(self._target.dialect, c) for c in self.job.target_columns)
        try:
            with self._target.connect().execution_options(**{READ_ONLY: True}) as connection:
                connection.execute(text(f"SELECT {columns} FROM {sql.target_relation} WHERE 1 = 0"))  # noqa: S608
                unique = not sql.upserts or self._key_is_unique(connection)
                connection.rollback()
        except SQLAlchemyError:
            self._reflect()  # names the missing table or column
            raise
        if not unique:
            raise ConfigurationError(
                f"target.key: {self.job.target.table!r} needs a primary key or unique index on "
                f"({', '.join(self.job.target.key)}) so that a redone batch overwrites rows "
                "instead of duplicating them",
                details={"path": "target.key"},
            )
        if create:
            try:
                self._create_tables()
            except SQLAlchemyError:  # another worker created them at the same moment
                self._create_tables()

    def _create_tables(self) -> None:
        _metadata.create_all(self._target, tables=[CHECKPOINTS], checkfirst=True)
        tables = range_tables()
        tables[0].metadata.create_all(self._target, tables=tables, checkfirst=True)

    def _reflect(self, connection: Connection | None = None) -> Table:
        table_name = self.job.target.table or ""
        schema, _, name = table_name.rpartition(".")
        try:
            table = Table(
                name, MetaData(), schema=schema or None, autoload_with=connection or self._target
            )
        except NoSuchTableError as error:
            raise ConfigurationError(
                f"target.table: no table {table_name!r} in the target database",
                details={"path": "target.table"},
            ) from error
        missing = [c for c in self.job.target_columns if c not in table.c]
        if missing:
            raise ConfigurationError(
                f"columns: the target table {table_name!r} has no column {missing[0]!r}",
                details={"path": "columns", "missing": missing},
            )
        return table

    def _key_is_unique(self, connection: Connection) -> bool:
        wanted = sorted(self.job.target.key)
        table_name = self.job.target.table or ""
        if self._target.dialect.name == "postgresql":
            found = connection.execute(
                text(_PG_UNIQUE_KEY),
                {"table": quote_name(self._target.dialect, table_name), "columns": wanted},
            ).first()
            return found is not None
        schema, _, name = table_name.rpartition(".")
        inspector = inspect(connection)
        primary = inspector.get_pk_constraint(name, schema=schema or None)
        if sorted(primary.get("constrained_columns") or []) == wanted:
            return True
        for constraint in inspector.get_unique_constraints(name, schema=schema or None):
            if sorted(constraint["column_names"]) == wanted:
                return True
        for index in inspector.get_indexes(name, schema=schema or None):
            if index.get("unique") and sorted(c for c in index["column_names"] if c) == wanted:
                return True
        return False

    def _read_checkpoint(self) -> _Checkpoint | None:
        if not inspect(self._target).has_table(CHECKPOINT_TABLE):
            return None
        with self._target.connect().execution_options(**{READ_ONLY: True}) as connection:
            row = connection.execute(
                select(CHECKPOINTS).where(CHECKPOINTS.c.job == self.job.name)
            ).first()
            connection.rollback()
        if row is None:
            return None
        return _Checkpoint(
            last_key=row.last_key,
            rows_done=row.rows_done,
            batches=row.batches,
            batch_size=row.batch_size,
            finished=bool(row.finished),
            fingerprint=row.fingerprint,
            essence=json.loads(row.essence),
        )

    def read_checkpoint(self) -> dict[str, Any] | None:
        """The authoritative checkpoint in the target database, or ``None``."""
        with _storage_errors():
            checkpoint = self._read_checkpoint()
        if checkpoint is None:
            return None
        return {
            "last_key": checkpoint.last_key,
            "rows_done": checkpoint.rows_done,
            "batches": checkpoint.batches,
            "batch_size": checkpoint.batch_size,
            "finished": checkpoint.finished,
            "usable": checkpoint.fingerprint == self.fingerprint,
        }

    def _open_checkpoint(self, *, restart: bool, resume: bool) -> _Checkpoint:
        name = self.job.name
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
                fresh = _Checkpoint(None, 0, 0, self.job.batch.size, False, self.fingerprint)
                connection.execute(
                    insert(CHECKPOINTS).values(
                        job=name,
                        fingerprint=self.fingerprint,
                        essence=json.dumps(job_essence(self.job), sort_keys=True),
                        last_key=None,
                        rows_done=0,
                        batches=0,
                        batch_size=fresh.batch_size,
                        finished=False,
                        updated_at=self._clock.now().isoformat(),
                    )
                )
                return fresh
            if row.fingerprint != self.fingerprint:
                stored = json.loads(row.essence)
                changed = [k for k, v in job_essence(self.job).items() if stored.get(k) != v]
                raise ValidationError(
                    f"backfill {name!r}: the checkpoint in the target database was made by "
                    f"this job with another {', '.join(changed) or 'definition'}, so it cannot "
                    "tell which rows are done; restore the job file, or start over with "
                    "`run --restart` (rows already copied are overwritten, not duplicated)",
                    details={"backfill": name, "changed": changed},
                )
            return _Checkpoint(
                last_key=row.last_key,
                rows_done=row.rows_done,
                batches=row.batches,
                batch_size=row.batch_size,
                finished=bool(row.finished),
                fingerprint=row.fingerprint,
            )

    def _count_source(self) -> int:
        with self._source.connect().execution_options(**{READ_ONLY: True}) as connection:
            count = connection.execute(text(self.sql.count_source())).scalar()
            connection.rollback()
        return int(count or 0)

    # -- verify --------------------------------------------------------------------------
    def verify(
        self,
        *,
        repair: bool = False,
        chunk_rows: int | None = None,
        on_chunk: Callable[[int], None] | None = None,
    ) -> VerifyOutcome:
        """Compare both sides chunk by chunk over the whole key space; with ``repair``,
        re-copy the differing chunks and verify them again.

        ``database`` mode sums hashes of each row's text inside each database;
        ``python`` mode (a transform, or two kinds of database) reads the rows and hashes
        them the same way on both sides.
        """
        try:
            outcome = self._verify(repair=repair, chunk_rows=chunk_rows, on_chunk=on_chunk)
        except Exception as failure:
            # Not a difference: the verify could not run. Recorded as the job's failure, so a
            # release plan's stage reports an error instead of starting it again and again.
            message = failure.message if isinstance(failure, RheostatError) else repr(failure)
            if self._store is not None:
                self._register(restart=False)
                self._call_store(
                    service.record_backfill_verify_error,
                    self.job.name,
                    error=message,
                    change=self._change("verify"),
                )
            raise
        if self._store is not None:
            self._register(restart=False)
            stored = outcome.to_dict()
            for part in (stored, stored.get("after_repair") or {}):
                if "differences" in part:
                    part["differences"] = part["differences"][:_MAX_STORED_DIFFERENCES]
            self._call_store(
                service.record_backfill_verify,
                self.job.name,
                report=stored,
                change=self._change("verify"),
            )
        return outcome

    def _verify(
        self,
        *,
        repair: bool,
        chunk_rows: int | None,
        on_chunk: Callable[[int], None] | None,
    ) -> VerifyOutcome:
        rows = chunk_rows or VERIFY_CHUNK_ROWS
        with _storage_errors():
            self._prepare_target(create=False)
            # Both sides of each chunk are summed at once, each by its own database, while
            # this thread walks the key space to the next chunk's end.
            with ThreadPoolExecutor(max_workers=2 * self.job.workers) as pool:
                pending = [
                    (
                        low,
                        high,
                        pool.submit(self._sum, "source", low, high),
                        pool.submit(self._sum, "target", low, high),
                    )
                    for low, high in self._chunks(rows)
                ]
                sums = []
                for index, (low, high, source, target) in enumerate(pending):
                    sums.append((low, high, source.result(), target.result()))
                    if on_chunk is not None:
                        on_chunk(index + 1)
            report = compare_chunks(sums)
            outcome = VerifyOutcome(name=self.job.name, mode=self.verify_mode, report=report)
            if repair and not report.identical:
                differing = {(d.low, d.high) for d in report.differences}
                for low, high in differing:
                    self._repair(low, high)
                again = [
                    (low, high, self._sum("source", low, high), self._sum("target", low, high))
                    if (low, high) in differing
                    else (low, high, source, target)
                    for low, high, source, target in sums
                ]
                outcome = VerifyOutcome(
                    name=self.job.name,
                    mode=self.verify_mode,
                    report=report,
                    repaired=len(differing),
                    after_repair=compare_chunks(again),
                )
        return outcome

    def _chunks(self, rows: int) -> Iterator[tuple[tuple[Any, ...] | None, tuple[Any, ...] | None]]:
        """``(low, high]`` ranges of ``rows`` source rows covering the whole key space: the
        first has no lower end and the last no upper end, so a target row outside the source's
        keys falls in one of them too."""
        low: tuple[Any, ...] | None = None
        with self._source.connect().execution_options(**{READ_ONLY: True}) as connection:
            while True:
                high = self._boundary(connection, low, rows)
                yield low, high
                if high is None:
                    break
                low = high
            connection.rollback()

    def _sum(
        self, side: str, low: tuple[Any, ...] | None, high: tuple[Any, ...] | None
    ) -> ChunkSum:
        engine = self._source if side == "source" else self._target
        params = key_params(low, high)
        has_low, has_high = low is not None, high is not None
        if self.verify_mode == "database":
            types = self._column_types()
            statement = text(self.sql.checksum(side, low=has_low, high=has_high, types=types))
            with engine.connect().execution_options(**{READ_ONLY: True}) as connection:
                count, first, second = connection.execute(statement, params).one()
                connection.rollback()
            return ChunkSum(int(count), int(first), int(second))
        if side == "source":
            columns = self.job.target_columns
            rows, _, _ = self._read(None, low, high, limit=None)
            return sum_rows([row[column] for column in columns] for row in rows)
        statement = text(self.sql.select_target_rows(low=has_low, high=has_high))
        with engine.connect().execution_options(**{READ_ONLY: True}) as connection:
            result = sum_rows(tuple(row) for row in connection.execute(statement, params))
            connection.rollback()
        return result

    def _column_types(self) -> tuple[str, ...] | None:
        """The target columns' types on PostgreSQL (``format_type``), in the columns' order,
        read once; ``None`` elsewhere (rows are then hashed by their text)."""
        if self._target.dialect.name != "postgresql":
            return None
        if self._types is None:
            with self._target.connect().execution_options(**{READ_ONLY: True}) as connection:
                self._types = column_types(
                    connection, self.job.target.table or "", self.job.target_columns
                )
                connection.rollback()
        return self._types

    def _repair(self, low: tuple[Any, ...] | None, high: tuple[Any, ...] | None) -> None:
        """Replace the target's rows of ``(low, high]`` by a fresh copy, in one transaction."""
        has_low, has_high = low is not None, high is not None
        with self._target.begin() as connection:
            connection.execute(
                text(self.sql.delete_range(low=has_low, high=has_high)), key_params(low, high)
            )
            if self.strategy is Strategy.SERVER_SIDE:
                connection.execute(
                    text(self.sql.insert_select(low=has_low, high=has_high)),
                    key_params(low, high),
                )
            else:
                rows, _, _ = self._read(connection, low, high, limit=None)
                if rows:
                    connection.execute(insert(self._table(connection)), rows)

    # -- the store -----------------------------------------------------------------------
    def _change(self, what: str) -> service.Change:
        return service.Change(actor=self._actor, reason=f"backfill {what} by {self.worker}")

    def _register(self, *, restart: bool) -> None:
        if self._store is not None:
            with self._store.unit_of_work() as uow:
                self._register_in(uow, restart=restart)

    def _register_in(self, uow: service.UnitOfWork, *, restart: bool) -> service.BackfillRecord:
        return service.register_backfill(
            uow,
            service.BackfillDefinition(
                name=self.job.name,
                document=job_to_dict(self.job),
                fingerprint=self.fingerprint,
                strategy=self.strategy.value,
                batch_size=self.job.batch.size,
            ),
            restart=restart,
            change=self._change("registration"),
        )

    def _claim(self, *, restart: bool) -> None:
        """Register the job and take its lease, in one store transaction."""
        if self._store is None:
            return
        with self._store.unit_of_work() as uow:
            record = self._register_in(uow, restart=restart)
            service.claim_backfill(
                uow,
                self.job.name,
                worker=self.worker,
                lease_seconds=self._lease_seconds,
                dead_workers=self._dead(record.lease_owner),
                change=self._change("run"),
            )

    def _dead(self, owner: str | None) -> frozenset[str]:
        """``owner`` when it is a process of this host that no longer runs (a SIGKILLed
        run): its lease is taken over at once rather than after it runs out."""
        host, _, pid = (owner or "").rpartition(":")
        if host != socket.gethostname() or not pid.isdigit() or owner == self.worker:
            return frozenset()
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return frozenset({owner or ""})
        except PermissionError:  # alive, another user's
            return frozenset()
        return frozenset()

    def _flush_mirror(self) -> None:
        """A run that stopped between two mirrors gives the store its last batch."""
        if self._unmirrored is not None:
            self._mirror(*self._unmirrored, force=True)
        self._mirrored = None

    def _mirror(
        self,
        outcome: _Outcome,
        size: int,
        seconds: float,
        rows_total: int | None,
        now: Progress,
        *,
        force: bool = False,
    ) -> str | None:
        """Mirror the batch into the store (the first, the last, and then at most every
        ``mirror_seconds``); return the status the store holds (``pausing`` asks to stop)."""
        moment = self._clock.monotonic()
        due = self._mirrored is None or moment - self._mirrored >= self.mirror_seconds
        if self._store is None:
            return None
        if not (due or force or outcome.finished):
            self._unmirrored = (outcome, size, seconds, rows_total, now)
            return None
        self._mirrored = moment
        self._unmirrored = None
        record = self._call_store(
            service.record_backfill_progress,
            self.job.name,
            service.BackfillProgress(
                checkpoint=service.BackfillCheckpoint(
                    job=self.job.name,
                    at=self._clock.now(),
                    worker=self.worker,
                    last_key=encode_key(outcome.last_key),
                    rows_done=outcome.rows_done,
                    batch_rows=outcome.rows,
                    batch_size=size,
                    batch_seconds=seconds,
                ),
                batches=outcome.batches,
                rows_total=rows_total,
                rows_per_second=now.rows_per_second,
                eta_seconds=0.0 if outcome.finished else now.eta_seconds,
            ),
            worker=self.worker,
            lease_seconds=self._lease_seconds,
        )
        return None if record is None else str(record.status)

    def _call_store(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if self._store is None:
            return None
        return service.transact(self._store, function, *args, **kwargs)


class _RangeWatch:
    """A ranged run's progress: sums the ranges' checkpoints, reports each change (a
    ``BatchReport``, the store's mirror) and says whether the store asked to pause."""

    def __init__(
        self,
        runner: BackfillRunner,
        checkpoint: _Checkpoint,
        before: RangeTotals,
        rows_total: int,
        started: float,
        on_batch: Callable[[BatchReport], None] | None,
    ) -> None:
        self._runner = runner
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
        runner = self._runner
        totals = runner._totals()  # the watch is the runner's own helper
        self.complete = totals.complete
        self.copied = totals.rows_done - self._before.rows_done
        if poll and totals.rows_done == self._seen and not totals.complete:
            return None
        outcome = _Outcome(
            totals.rows_done - self._seen,
            decode_key(totals.last_key),
            totals.complete,
            self._checkpoint.rows_done + totals.rows_done,
            self._checkpoint.batches + totals.batches,
        )
        self._seen = totals.rows_done
        clock = runner._clock
        now = progress(
            outcome.rows_done, self._rows_total, self.copied, clock.monotonic() - self._started
        )
        requested = runner._mirror(outcome, size, seconds, self._rows_total, now)
        if self._on_batch is not None:
            report = _report(outcome, size, next_size, seconds, now, reasons)
            self._on_batch(replace(report, workers=self.pids))
        return requested


@contextmanager
def _storage_errors() -> Iterator[None]:
    """Turn a database failure into one ``StorageError`` line (the transaction rolled back)."""
    try:
        yield
    except SQLAlchemyError as error:
        lines = str(getattr(error, "orig", None) or error).strip().splitlines()
        message = lines[0] if lines else type(error).__name__
        raise StorageError(f"backfill database error: {message}") from error


def _redacted(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is shown as its scheme
        return url.split("://", 1)[0] + "://..."


def _report(
    outcome: _Outcome,
    size: int,
    next_size: int,
    seconds: float,
    now: Progress,
    reasons: tuple[str, ...],
) -> BatchReport:
    return BatchReport(
        batch=outcome.batches,
        rows=outcome.rows,
        seconds=seconds,
        size=size,
        next_size=next_size,
        rows_done=outcome.rows_done,
        rows_total=now.rows_total,
        rows_per_second=now.rows_per_second,
        eta_seconds=0.0 if outcome.finished else now.eta_seconds,
        percent=100.0 if outcome.finished else now.percent,
        last_key=encode_key(outcome.last_key),
        finished=outcome.finished,
        throttled=reasons,
    )


def _report_dict(report: VerifyReport) -> dict[str, Any]:
    return {
        "chunks": report.chunks,
        "source_rows": report.source_rows,
        "target_rows": report.target_rows,
        "differences": [
            {
                "low": encode_key(difference.low),
                "high": encode_key(difference.high),
                "source_rows": difference.source.rows,
                "target_rows": difference.target.rows,
            }
            for difference in report.differences
        ],
        "identical": report.identical,
    }
