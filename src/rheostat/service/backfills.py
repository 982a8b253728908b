"""Backfill jobs as the store knows them: registration, verify results, problems, status.

The runner (``rheostat.runner``) moves the rows; the authoritative checkpoint lives in the
target database, written in each batch's transaction. What these services keep is what the
CLI's ``status``, the API and a release plan read; a run's lease, the progress it mirrors
and its end are in ``backfill_runs``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rheostat.errors import NotFound
from rheostat.inputs import validate_key, validate_number
from rheostat.service.audit import record_audit
from rheostat.service.change import Change
from rheostat.store.records import AuditAction, BackfillCheckpoint, BackfillRecord
from rheostat.store.unit_of_work import UnitOfWork

__all__ = [
    "BACKFILL_STATUSES",
    "BackfillDefinition",
    "backfill_checkpoints",
    "backfill_status_document",
    "get_backfill",
    "list_backfills",
    "record_backfill_problem",
    "record_backfill_verify",
    "record_backfill_verify_error",
    "register_backfill",
]

BACKFILL_STATUSES = ("pending", "running", "pausing", "paused", "stopped", "completed", "failed")
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


def record_backfill_verify(
    uow: UnitOfWork, name: str, *, report: Mapping[str, Any], change: Change
) -> BackfillRecord:
    """Keep the result of a verify pass (``report["identical"]`` gates a cut-over), stamped
    ``verified_at`` (a release plan's stage counts only a verify made after the copy ended)."""
    record = get_backfill(uow, name, lock=True)
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
    record = get_backfill(uow, name, lock=True)
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


def get_backfill(uow: UnitOfWork, name: str, *, lock: bool = False) -> BackfillRecord:
    """The job (its row locked for the transaction with ``lock``). Raises ``NotFound``."""
    validate_key(name, "backfill")
    record = uow.backfills.find(name, lock=lock)
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
