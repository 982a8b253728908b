"""A backfill run as the store knows it: the lease a worker takes, the progress it mirrors
after each committed batch, how the run ends, and a request to pause at a batch boundary.

The runner (``rheostat.runner``) moves the rows; the authoritative checkpoint lives in the
target database, written in each batch's transaction. The lease keeps two workers off one job;
a crashed worker's lease runs out and another takes the job over.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from rheostat.errors import Conflict, ValidationError
from rheostat.service.audit import record_audit
from rheostat.service.backfills import get_backfill
from rheostat.service.change import Change
from rheostat.store.records import AuditAction, BackfillCheckpoint, BackfillRecord
from rheostat.store.unit_of_work import UnitOfWork

__all__ = [
    "BackfillProgress",
    "claim_backfill",
    "finish_backfill",
    "pause_backfill",
    "record_backfill_progress",
]

_ENDED = ("paused", "stopped", "completed", "failed")


@dataclass(frozen=True, slots=True, kw_only=True)
class BackfillProgress:
    """A committed batch and the job's totals after it."""

    checkpoint: BackfillCheckpoint
    batches: int
    rows_total: int | None
    rows_per_second: float
    eta_seconds: float | None


def claim_backfill(
    uow: UnitOfWork,
    name: str,
    *,
    worker: str,
    lease_seconds: float,
    dead_workers: frozenset[str] = frozenset(),
    change: Change,
) -> BackfillRecord:
    """Take the job's lease for ``worker`` and mark it running.

    Args:
        dead_workers: workers the caller knows are gone (a process of its own host that no
            longer exists): their leases are taken over at once instead of running out.

    Raises:
        NotFound: no such job.
        Conflict: another worker holds a lease that has not expired (two workers never run
            one job; a crashed one's lease runs out and the job can be taken over).
    """
    record = get_backfill(uow, name, lock=True)
    if (
        record.lease_owner is not None
        and record.lease_owner != worker
        and record.lease_owner not in dead_workers
        and record.lease_expires_at is not None
        and record.lease_expires_at > uow.now
    ):
        raise Conflict(
            f"backfill {name!r} is being run by {record.lease_owner} "
            f"(lease until {record.lease_expires_at.isoformat()}); wait or stop it first",
            details={"backfill": name, "worker": record.lease_owner},
        )
    claimed = uow.backfills.update(
        name,
        at=uow.now,
        status="running",
        lease_owner=worker,
        lease_expires_at=uow.now + timedelta(seconds=lease_seconds),
        started_at=record.started_at or uow.now,
        finished_at=None,
        error=None,
    )
    record_audit(
        uow,
        AuditAction.BACKFILL_STARTED,
        subject=f"backfill:{name}",
        environment=None,
        states=({"status": record.status}, {"status": "running", "worker": worker}),
        change=change,
    )
    return claimed


def record_backfill_progress(
    uow: UnitOfWork, name: str, progress: BackfillProgress, *, worker: str, lease_seconds: float
) -> BackfillRecord:
    """Mirror a committed batch and renew the lease; the returned status says whether the
    worker was asked to pause (``pausing``).

    Progress is not audited (a row per batch would drown the log); the start and the end of a
    run are.

    Raises:
        Conflict: the worker lost its lease to another.
    """
    record = get_backfill(uow, name, lock=True)
    if record.lease_owner != worker:
        raise Conflict(
            f"backfill {name!r}: worker {worker} no longer holds the lease "
            f"({record.lease_owner or 'nobody'} does)",
            details={"backfill": name, "worker": record.lease_owner},
        )
    checkpoint = replace(progress.checkpoint, at=uow.now)
    uow.backfills.add_checkpoint(checkpoint)
    return uow.backfills.update(
        name,
        at=uow.now,
        rows_done=checkpoint.rows_done,
        rows_total=progress.rows_total,
        batches=progress.batches,
        batch_size=checkpoint.batch_size,
        last_key=checkpoint.last_key,
        rows_per_second=progress.rows_per_second,
        eta_seconds=progress.eta_seconds,
        lease_expires_at=uow.now + timedelta(seconds=lease_seconds),
    )


def finish_backfill(
    uow: UnitOfWork,
    name: str,
    *,
    worker: str,
    status: str,
    error: str | None = None,
    change: Change,
) -> BackfillRecord:
    """End a run: ``completed``, ``paused`` or ``stopped`` at a batch boundary, or ``failed``;
    the lease is released."""
    if status not in _ENDED:
        raise ValidationError(f"a run ends {', '.join(_ENDED)}, not {status!r}")
    record = get_backfill(uow, name, lock=True)
    if record.lease_owner not in (None, worker):
        raise Conflict(f"backfill {name!r} is held by {record.lease_owner}, not {worker}")
    finished = uow.backfills.update(
        name,
        at=uow.now,
        status=status,
        error=error,
        lease_owner=None,
        lease_expires_at=None,
        eta_seconds=0.0 if status == "completed" else record.eta_seconds,
        finished_at=uow.now if status == "completed" else None,
    )
    record_audit(
        uow,
        AuditAction.BACKFILL_FINISHED,
        subject=f"backfill:{name}",
        environment=None,
        states=(
            {"status": record.status},
            {"status": status, "rows_done": finished.rows_done, "error": error},
        ),
        change=change,
    )
    return finished


def pause_backfill(uow: UnitOfWork, name: str, *, change: Change) -> BackfillRecord:
    """Ask a running job to stop at its next batch boundary (``pausing``); a job that is not
    running is marked ``paused`` at once. ``run``/``resume`` continue it."""
    record = get_backfill(uow, name, lock=True)
    if record.status == "completed":
        raise Conflict(f"backfill {name!r} is already completed")
    status = "pausing" if record.status in ("running", "pausing") else "paused"
    paused = uow.backfills.update(name, at=uow.now, status=status)
    record_audit(
        uow,
        AuditAction.BACKFILL_PAUSED,
        subject=f"backfill:{name}",
        environment=None,
        states=({"status": record.status}, {"status": status}),
        change=change,
    )
    return paused
