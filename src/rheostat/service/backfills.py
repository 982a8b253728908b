"""Backfill jobs as the store knows them: registration, the lease a worker holds while it
copies, the progress it mirrors after each committed batch, pause requests and verify results.

The runner (``rheostat.runner``) moves the rows; the authoritative checkpoint lives in the
target database, written in each batch's transaction. What these services keep is what the
CLI's ``status``, the API and a release plan read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from rheostat.errors import Conflict, NotFound, ValidationError
from rheostat.inputs import validate_key, validate_number
from rheostat.service.audit import record_audit
from rheostat.service.change import Change
from rheostat.store.records import AuditAction, BackfillCheckpoint, BackfillRecord
from rheostat.store.unit_of_work import UnitOfWork

__all__ = [
    "BACKFILL_STATUSES",
    "BackfillDefinition",
    "BackfillProgress",
    "backfill_checkpoints",
    "backfill_status_document",
    "claim_backfill",
    "finish_backfill",
    "get_backfill",
    "list_backfills",
    "pause_backfill",
    "record_backfill_problem",
    "record_backfill_progress",
    "record_backfill_verify",
    "record_backfill_verify_error",
    "register_backfill",
]

BACKFILL_STATUSES = ("pending", "running", "pausing", "paused", "stopped", "completed", "failed")
_ENDED = ("paused", "stopped", "completed", "failed")
_MAX_CHECKPOINTS = 1000


@dataclass(frozen=True, slots=True, kw_only=True)
class BackfillDefinition:
    """What the store keeps of a job file: its canonical document (URLs as written), the
    fingerprint of what decides the rows, the copy strategy and the first batch size."""

    name: str
    document: Mapping[str, Any]
    fingerprint: str
    strategy: str
    batch_size: int


@dataclass(frozen=True, slots=True, kw_only=True)
class BackfillProgress:
    """A committed batch and the job's totals after it."""

    checkpoint: BackfillCheckpoint
    batches: int
    rows_total: int | None
    rows_per_second: float
    eta_seconds: float | None


def register_backfill(
    uow: UnitOfWork, definition: BackfillDefinition, *, restart: bool = False, change: Change
) -> BackfillRecord:
    """Store the job (or its changed document); ``restart`` also clears its progress.

    Raises:
        ValidationError: a name that is not a key.
    """
    name = definition.name
    document = definition.document
    strategy = definition.strategy
    fingerprint = definition.fingerprint
    batch_size = definition.batch_size
    validate_key(name, "backfill")
    existing = uow.backfills.find(name, lock=True)
    if existing is None:
        record = uow.backfills.add(
            name,
            document=document,
            fingerprint=fingerprint,
            strategy=strategy,
            batch_size=batch_size,
            at=uow.now,
        )
    elif restart or existing.document != document or existing.strategy != strategy:
        fresh: dict[str, Any] = {}
        if restart:
            fresh = {
                "status": "pending",
                "rows_done": 0,
                "batches": 0,
                "last_key": None,
                "eta_seconds": None,
                "rows_per_second": 0.0,
                "started_at": None,
                "finished_at": None,
                "error": None,
                "verify": None,
            }
        record = uow.backfills.update(
            name,
            at=uow.now,
            document=document,
            fingerprint=fingerprint,
            strategy=strategy,
            **fresh,
        )
    else:
        return existing
    record_audit(
        uow,
        AuditAction.BACKFILL_REGISTERED,
        subject=f"backfill:{name}",
        environment=None,
        states=(None if existing is None else dict(existing.document), dict(document)),
        change=change,
    )
    return record


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
    record = _locked(uow, name)
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
    record = _locked(uow, name)
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
    record = _locked(uow, name)
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
    record = _locked(uow, name)
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


def record_backfill_verify(
    uow: UnitOfWork, name: str, *, report: Mapping[str, Any], change: Change
) -> BackfillRecord:
    """Keep the result of a verify pass (``report["identical"]`` gates a cut-over), stamped
    ``verified_at`` (a release plan's stage counts only a verify made after the copy ended)."""
    record = _locked(uow, name)
    report = {**report, "verified_at": uow.now.isoformat()}
    verified = uow.backfills.update(name, at=uow.now, verify=report)
    record_audit(
        uow,
        AuditAction.BACKFILL_VERIFIED,
        subject=f"backfill:{name}",
        environment=None,
        states=(None if record.verify is None else dict(record.verify), dict(report)),
        change=change,
    )
    return verified


def record_backfill_verify_error(
    uow: UnitOfWork, name: str, *, error: str, change: Change
) -> BackfillRecord:
    """A verify that could not run (an exception, not a difference: the target table is gone,
    a database refused): the job is marked ``failed`` with ``verify: <error>``, and its verify
    says so (``{"error": ..., "identical": false, "errors_in_a_row": n}``, stamped
    ``verified_at``), so a release plan's backfill stage reports an ``error`` verdict, counted
    by the plan's ``error_limit``, instead of starting a worker on every tick. ``n`` counts the
    verifies that errored since the last one that compared the two sides."""
    record = _locked(uow, name)
    previous = record.verify or {}
    in_a_row = int(previous.get("errors_in_a_row", 0)) + 1 if "error" in previous else 1
    report = {
        "error": error,
        "errors_in_a_row": in_a_row,
        "identical": False,
        "cut_over": "refused",
        "verified_at": uow.now.isoformat(),
    }
    failed = uow.backfills.update(
        name, at=uow.now, status="failed", error=f"verify: {error}", verify=report
    )
    record_audit(
        uow,
        AuditAction.BACKFILL_VERIFIED,
        subject=f"backfill:{name}",
        environment=None,
        states=({"status": record.status}, {"status": "failed", "verify": report}),
        change=change,
    )
    return failed


def record_backfill_problem(
    uow: UnitOfWork, name: str, *, error: str, change: Change
) -> BackfillRecord | None:
    """Mark the job ``failed`` with ``error`` when its file cannot run (missing, invalid, or
    naming another job), creating its record if there is none, so a release plan's backfill
    stage fails with the reason instead of waiting. A job a worker holds is left alone
    (returns ``None``)."""
    validate_key(name, "backfill")
    record = uow.backfills.find(name, lock=True)
    if record is None:
        record = uow.backfills.add(
            name, document={}, fingerprint="", strategy="", batch_size=1, at=uow.now
        )
    elif (
        record.lease_owner is not None
        and record.lease_expires_at is not None
        and record.lease_expires_at > uow.now
    ):
        return None
    failed = uow.backfills.update(name, at=uow.now, status="failed", error=error)
    record_audit(
        uow,
        AuditAction.BACKFILL_FINISHED,
        subject=f"backfill:{name}",
        environment=None,
        states=({"status": record.status}, {"status": "failed", "error": error}),
        change=change,
    )
    return failed


def get_backfill(uow: UnitOfWork, name: str) -> BackfillRecord:
    """The job. Raises ``NotFound``."""
    validate_key(name, "backfill")
    record = uow.backfills.find(name)
    if record is None:
        raise NotFound(f"no backfill named {name!r}", details={"backfill": name})
    return record


def list_backfills(uow: UnitOfWork) -> list[BackfillRecord]:
    """Every job, sorted by name."""
    return uow.backfills.list()


def backfill_checkpoints(
    uow: UnitOfWork, name: str, *, limit: int = 100
) -> list[BackfillCheckpoint]:
    """The job's newest checkpoints, newest first (1..1000 of them)."""
    validate_number(limit, "limit", minimum=1, maximum=_MAX_CHECKPOINTS)
    get_backfill(uow, name)
    return uow.backfills.checkpoints(name, limit=limit)


def backfill_status_document(record: BackfillRecord) -> dict[str, Any]:
    """The job's status for people and scripts (CLI ``--json``, the HTTP API)."""
    percent: float | None = None
    if record.rows_total is not None:
        percent = (
            100.0
            if record.rows_total == 0 or record.status == "completed"
            else min(100.0, 100.0 * record.rows_done / record.rows_total)
        )
    verify = None if record.verify is None else dict(record.verify)
    return {
        "name": record.name,
        "status": record.status,
        "strategy": record.strategy,
        "rows_done": record.rows_done,
        "rows_total": record.rows_total,
        "percent": percent,
        "rows_per_second": record.rows_per_second,
        "eta_seconds": record.eta_seconds,
        "batches": record.batches,
        "batch_size": record.batch_size,
        "last_key": record.last_key,
        "worker": record.lease_owner,
        "lease_expires_at": _iso(record.lease_expires_at),
        "error": record.error,
        "verify": verify,
        "verified": bool(verify and verify.get("identical")),
        "fingerprint": record.fingerprint,
        "version": record.version,
        "created_at": _iso(record.created_at),
        "updated_at": _iso(record.updated_at),
        "started_at": _iso(record.started_at),
        "finished_at": _iso(record.finished_at),
    }


def _iso(moment: Any) -> str | None:
    return None if moment is None else str(moment.isoformat())


def _locked(uow: UnitOfWork, name: str) -> BackfillRecord:
    validate_key(name, "backfill")
    record = uow.backfills.find(name, lock=True)
    if record is None:
        raise NotFound(f"no backfill named {name!r}", details={"backfill": name})
    return record
