"""A run's record in rheostat's store: registration, lease, progress, verify results.

The authoritative checkpoint is in the target database, committed with each batch; the store
holds a mirror of it for status pages, the API and ``pause``, written after the batch's
commit, at most every ``mirror_seconds``. Without a store every call here does nothing.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from typing import Any

from rheostat import service
from rheostat.backfill import (
    BackfillJob,
    Progress,
    choose_strategy,
    encode_key,
    job_fingerprint,
    job_to_dict,
)
from rheostat.clock import Clock
from rheostat.runner.reports import BatchOutcome, VerifyOutcome

__all__ = ["DEFAULT_LEASE_SECONDS", "MIRROR_SECONDS", "StoreMirror", "default_worker"]

DEFAULT_LEASE_SECONDS = 60.0
MIRROR_SECONDS = 1.0
"""Progress reaches the store at most this often: the authoritative checkpoint is already
committed with each batch, and one store transaction per batch would cost more than the
batch itself on small batches (an fsync each, on SQLite)."""
_MAX_STORED_DIFFERENCES = 100


def default_worker() -> str:
    """``host:pid``: who holds a job's lease."""
    return f"{socket.gethostname()}:{os.getpid()}"


_Unmirrored = tuple[BatchOutcome, int, float, int | None, Progress]


class StoreMirror:
    """``job``'s record in ``store`` (``None``: no store), kept by ``worker`` for ``actor``."""

    def __init__(
        self,
        job: BackfillJob,
        store: service.SqlStore | None,
        *,
        clock: Clock,
        actor: str,
        worker: str,
    ) -> None:
        self._job = job
        self._store = store
        self._clock = clock
        self._actor = actor
        self.worker = worker
        self.lease_seconds = DEFAULT_LEASE_SECONDS
        self.mirror_seconds = MIRROR_SECONDS
        self._mirrored: float | None = None
        self._unmirrored: _Unmirrored | None = None

    def change(self, what: str) -> service.Change:
        """The audit log's who and why for ``what``."""
        return service.Change(actor=self._actor, reason=f"backfill {what} by {self.worker}")

    def register(self, *, restart: bool) -> None:
        """Register the job (or its new definition) in the store."""
        if self._store is not None:
            with self._store.unit_of_work() as uow:
                self._register_in(uow, restart=restart)

    def _register_in(self, uow: service.UnitOfWork, *, restart: bool) -> service.BackfillRecord:
        return service.register_backfill(
            uow,
            service.BackfillDefinition(
                name=self._job.name,
                document=job_to_dict(self._job),
                fingerprint=job_fingerprint(self._job),
                strategy=choose_strategy(self._job).value,
                batch_size=self._job.batch.size,
            ),
            restart=restart,
            change=self.change("registration"),
        )

    def claim(self, *, restart: bool) -> None:
        """Register the job and take its lease, in one store transaction."""
        if self._store is None:
            return
        with self._store.unit_of_work() as uow:
            record = self._register_in(uow, restart=restart)
            service.claim_backfill(
                uow,
                self._job.name,
                worker=self.worker,
                lease_seconds=self.lease_seconds,
                dead_workers=self._dead(record.lease_owner),
                change=self.change("run"),
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

    def finish(self, status: str, *, error: str | None) -> None:
        """Record how the run ended and give up the lease."""
        self._call(
            service.finish_backfill,
            self._job.name,
            worker=self.worker,
            status=status,
            error=error,
            change=self.change(status),
        )

    def record_verify(self, outcome: VerifyOutcome) -> None:
        """Store a verify's outcome (its first differences only)."""
        if self._store is None:
            return
        self.register(restart=False)
        stored = outcome.to_dict()
        for part in (stored, stored.get("after_repair") or {}):
            if "differences" in part:
                part["differences"] = part["differences"][:_MAX_STORED_DIFFERENCES]
        self._call(
            service.record_backfill_verify,
            self._job.name,
            report=stored,
            change=self.change("verify"),
        )

    def record_verify_error(self, message: str) -> None:
        """Store that a verify could not run."""
        if self._store is None:
            return
        self.register(restart=False)
        self._call(
            service.record_backfill_verify_error,
            self._job.name,
            error=message,
            change=self.change("verify"),
        )

    def flush(self) -> None:
        """A run that stopped between two mirrors gives the store its last batch."""
        if self._unmirrored is not None:
            self.mirror(*self._unmirrored, force=True)
        self._mirrored = None

    def mirror(
        self,
        outcome: BatchOutcome,
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
        record = self._call(
            service.record_backfill_progress,
            self._job.name,
            service.BackfillProgress(
                checkpoint=service.BackfillCheckpoint(
                    job=self._job.name,
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
            lease_seconds=self.lease_seconds,
        )
        return None if record is None else str(record.status)

    def _call(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if self._store is None:
            return None
        return service.transact(self._store, function, *args, **kwargs)
