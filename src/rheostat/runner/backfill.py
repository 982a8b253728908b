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

The runner wires its collaborators, one module each: ``checkpoints`` (the checkpoint table),
``target`` (the target table's checks), ``copier`` (the copy engine), ``pace`` (throttle and
rest), ``serial`` (one loop of batches), ``ranged`` and ``coordinator`` (parallel key
ranges), ``verify`` (verify and repair), ``mirror`` (the store) and ``reports`` (results).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import make_url
from sqlalchemy.exc import SQLAlchemyError

from rheostat import service
from rheostat.backfill import (
    BackfillJob,
    Strategy,
    choose_strategy,
    decode_key,
    job_fingerprint,
    job_to_dict,
)
from rheostat.clock import Clock, SystemClock
from rheostat.errors import RheostatError, StorageError
from rheostat.runner.checkpoints import CHECKPOINT_TABLE, Checkpoints
from rheostat.runner.coordinator import RangedRun, worker_count
from rheostat.runner.copier import Copier, Transform
from rheostat.runner.databases import Databases
from rheostat.runner.mirror import StoreMirror, default_worker
from rheostat.runner.pace import Pacer
from rheostat.runner.probes import resolve
from rheostat.runner.ranged import KeyRanges, OnRangeBatch
from rheostat.runner.reports import BatchReport, DryRunReport, RunResult, VerifyOutcome
from rheostat.runner.serial import SerialRun
from rheostat.runner.target import TargetTable
from rheostat.runner.verify import Verifier

__all__ = [
    "CHECKPOINT_TABLE",
    "BackfillRunner",
    "BatchReport",
    "DryRunReport",
    "RunResult",
    "VerifyOutcome",
    "default_worker",
]


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
        transform: Transform | None = None,
    ) -> None:
        self.job = job
        self.fingerprint = job_fingerprint(job)
        self.strategy = choose_strategy(job)
        self._clock = clock or SystemClock()
        self._mirror = StoreMirror(
            job, store, clock=self._clock, actor=actor, worker=worker or default_worker()
        )
        self._transform = transform
        if transform is None and job.transform is not None:
            self._transform = resolve(job.transform, "transform")
        self._databases = databases = Databases.open(job)
        self.sql = databases.sql
        self._target = TargetTable(job, databases)
        self._copier = Copier(
            job, databases, strategy=self.strategy, transform=self._transform, target=self._target
        )
        self._checkpoints = Checkpoints(
            job,
            databases.target,
            copier=self._copier,
            clock=self._clock,
            fingerprint=self.fingerprint,
        )
        self._pacer = Pacer(job, databases, clock=self._clock)
        self._serial = SerialRun(
            job,
            databases,
            checkpoints=self._checkpoints,
            pacer=self._pacer,
            mirror=self._mirror,
            clock=self._clock,
        )
        self._ranges = KeyRanges(
            job,
            databases,
            copier=self._copier,
            pacer=self._pacer,
            clock=self._clock,
            worker=self.worker,
        )
        self._ranged = RangedRun(
            job,
            databases,
            ranges=self._ranges,
            mirror=self._mirror,
            clock=self._clock,
        )
        self._verifier = Verifier(
            job, databases, copier=self._copier, transformed=self._transform is not None
        )

    @property
    def worker(self) -> str:
        """Who holds the job's lease and writes its range checkpoints."""
        return self._mirror.worker

    @worker.setter
    def worker(self, worker: str) -> None:
        self._mirror.worker = worker
        self._ranges.worker = worker

    @property
    def mirror_seconds(self) -> float:
        """Least time between two progress mirrors into the store (the first and the last
        batch are always mirrored); 0 mirrors every batch."""
        return self._mirror.mirror_seconds

    @mirror_seconds.setter
    def mirror_seconds(self, seconds: float) -> None:
        self._mirror.mirror_seconds = seconds

    def close(self) -> None:
        """Release the database connections."""
        self._databases.close()

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
        return self._verifier.mode

    # -- dry run -------------------------------------------------------------------------
    def dry_run(self) -> DryRunReport:
        """Count the rows and time one batch that is rolled back: nothing is written."""
        with _storage_errors():
            self._target.check()
            rows_total = self._databases.count_source()
            checkpoint = self._checkpoints.find()
            last = None if checkpoint is None else decode_key(checkpoint.last_key)
            rows_done = 0 if checkpoint is None else checkpoint.rows_done
            size = self.job.batch.size
            with self._databases.target.connect() as connection:
                transaction = connection.begin()
                try:
                    started = self._clock.monotonic()
                    outcome = self._copier.copy(connection, last, size)
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
        dialect = self._databases.target.dialect.name
        count = worker_count(self.job, workers, dialect=dialect, transform=self._transform)
        with _storage_errors():
            self._prepare_target(create=True)
            checkpoint = self._checkpoints.open(restart=restart, resume=resume)
            ranged = not checkpoint.finished and (count > 1 or self._ranges.totals().ranges > 0)
        self._mirror.claim(restart=restart)
        status, error = "failed", None
        try:
            with _storage_errors():
                if ranged:
                    result = self._ranged.run(
                        checkpoint, count, should_stop, on_batch, work=self.work_ranges
                    )
                else:
                    result = self._serial.run(checkpoint, should_stop, on_batch)
            status = result.status
            return result
        except RheostatError as failure:
            error = failure.message
            raise
        except Exception as failure:
            error = f"{type(failure).__name__}: {failure}"
            raise
        finally:
            self._mirror.finish(status, error=error)

    def work_ranges(
        self,
        *,
        should_stop: Callable[[], bool] = lambda: False,
        on_batch: OnRangeBatch | None = None,
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
            self._checkpoints.check_fingerprint()
            return self._ranges.work(should_stop, on_batch)

    # -- checkpoints -----------------------------------------------------------------------
    def _prepare_target(self, *, create: bool) -> None:
        """Check the target table; with ``create``, create the checkpoint tables if missing."""
        self._target.check()
        if create:
            self._checkpoints.create_tables()

    def read_checkpoint(self) -> dict[str, Any] | None:
        """The authoritative checkpoint in the target database, or ``None``."""
        with _storage_errors():
            checkpoint = self._checkpoints.find()
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
            with _storage_errors():
                self._target.check()
                outcome = self._verifier.verify(
                    repair=repair, chunk_rows=chunk_rows, on_chunk=on_chunk
                )
        except Exception as failure:
            # Not a difference: the verify could not run. Recorded as the job's failure, so a
            # release plan's stage reports an error instead of starting it again and again.
            message = failure.message if isinstance(failure, RheostatError) else repr(failure)
            self._mirror.record_verify_error(message)
            raise
        self._mirror.record_verify(outcome)
        return outcome


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
