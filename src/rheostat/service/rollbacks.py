"""Rolling a flag back: immediate, gradual, targeted, or to a stored version (what each mode
does to the flag is in ``rollback_modes``).

Every rollback is a normal flag version with its audit event, plus a ``rollbacks`` row (the
history: who, when, why, how, from what to what) and events for webhooks and hooks, all in
the caller's transaction. A release plan that drives the flag is aborted in the same
transaction, so the controller never ramps it back up.

A gradual rollback applies its first step at once and stores the rest; the controller loop
applies each next step when it is due (``due_rollbacks`` then ``step_rollback``, each in its
own transaction), so it survives restarts. If someone changes the flag in between, the
rollback stops (``cancelled``) rather than overwrite them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from rheostat.inputs import validate_lookup, validate_number
from rheostat.rollout.state import TERMINAL_PHASES, Command, CommandKind, Phase
from rheostat.service.audit import record_audit
from rheostat.service.change import Change, refuse_stale
from rheostat.service.events import emit_event
from rheostat.service.flag_changes import live_flag
from rheostat.service.plans import command_plan
from rheostat.service.rollback_modes import MODES, Applied, exposure_facts, set_share
from rheostat.service.rollback_requests import (
    DEFAULT_GRADUAL_STEPS,
    RollbackRequest,
    check_request,
)
from rheostat.store.operations_records import RollbackMode, RollbackRecord, RollbackStatus
from rheostat.store.records import AuditAction, FlagRecord
from rheostat.store.unit_of_work import UnitOfWork

__all__ = [
    "DEFAULT_GRADUAL_STEPS",
    "RollbackRequest",
    "due_rollbacks",
    "rollback_data",
    "rollback_flag",
    "rollback_history",
    "step_due_rollbacks",
    "step_rollback",
]


def rollback_flag(
    uow: UnitOfWork, environment: str, key: str, request: RollbackRequest, *, change: Change
) -> RollbackRecord:
    """Roll the flag back as ``request`` says, in ``uow``'s transaction.

    Running release plans of the flag are aborted (their flag changes stop), a gradual
    rollback of the flag still running is cancelled, the flag gets its new version, and the
    rollback is recorded (``rollback_history``) and announced (``rollback.started``, and
    ``rollback.completed`` when nothing is left to do).

    An immediate rollback is the kill switch and ignores ``change.expected_version``; the
    others refuse a stale one (``Conflict``).

    Raises:
        NotFound: no such environment or flag (or version). ValidationError: a request that
            does not fit the mode or the flag. Conflict: stale ``expected_version``.
    """
    validate_lookup(environment=environment, flag=key)
    check_request(request)
    uow.environments.get(environment, lock=True)
    before = live_flag(uow, environment, key, lock=True)
    if request.mode is not RollbackMode.IMMEDIATE:
        subject = {"environment": environment, "flag": key}
        refuse_stale("flag", subject, change.expected_version, before.version)
    reason = change.reason or f"{request.mode.value} rollback"
    stopped = _stop_plans(uow, environment, key, Change(actor=change.actor, reason=reason))
    _cancel_running(uow, environment, key, f"superseded by a {request.mode.value} rollback")
    applied = MODES[request.mode](uow, before, request, Change(actor=change.actor, reason=reason))
    record = uow.rollbacks.add(_new_record(uow, before, request, change, applied, stopped=stopped))
    _announce_start(uow, record, before, change)
    return record


def due_rollbacks(uow: UnitOfWork) -> list[int]:
    """Ids of gradual rollbacks whose next step is due at ``uow.now``, oldest first."""
    return uow.rollbacks.due(uow.now)


def step_rollback(uow: UnitOfWork, rollback_id: int) -> RollbackRecord:
    """Apply the rollback's next gradual step if it is due, in ``uow``'s transaction.

    Not due, or no longer running: nothing changes. The flag changed by someone else since
    the last step (or deleted): the rollback is cancelled and the flag left alone.

    Raises:
        NotFound: no such rollback.
    """
    validate_number(rollback_id, "rollback", minimum=1, maximum=2**63 - 1)
    record = uow.rollbacks.get(rollback_id)
    uow.environments.get(record.environment, lock=True)
    record = uow.rollbacks.get(rollback_id, lock=True)
    due = record.next_step_at is not None and record.next_step_at <= uow.now
    if record.status is not RollbackStatus.RUNNING or not due:
        return record
    stored = uow.flags.find(record.environment, record.flag, lock=True)
    if stored is None or stored.deleted or stored.record.version != record.flag_version:
        found = "deleted" if stored is None or stored.deleted else f"v{stored.record.version}"
        why = f"the flag changed since the last step (v{record.flag_version}, now {found})"
        return _cancel(uow, record, why)
    return _next_step(uow, record, stored.record)


def step_due_rollbacks(uow: UnitOfWork) -> list[RollbackRecord]:
    """``step_rollback`` for every due rollback, in ``uow``'s transaction (one transaction
    for all: tests and the facade; the controller loop steps each in its own)."""
    return [step_rollback(uow, rollback_id) for rollback_id in due_rollbacks(uow)]


def rollback_history(uow: UnitOfWork, environment: str, key: str) -> list[RollbackRecord]:
    """The flag's rollbacks, newest first (deleted flags' too). Raises ``NotFound``
    (environment)."""
    validate_lookup(environment=environment, flag=key)
    uow.environments.get(environment)
    return uow.rollbacks.history(environment, key)


# Gradual steps ----------------------------------------------------------------------------------


def _next_step(uow: UnitOfWork, record: RollbackRecord, flag: FlagRecord) -> RollbackRecord:
    details = dict(record.details)
    share, *rest = details["steps"]
    change = Change(actor=record.actor, reason=record.reason or "gradual rollback")
    stepped = set_share(uow, flag, float(details["start_percent"]), float(share), change)
    details["steps"] = rest
    details["applied"] = [*details.get("applied", []), _applied_entry(uow, stepped)]
    details["to"] = exposure_facts(stepped)
    finished = not rest
    updated = uow.rollbacks.update(
        record.id,
        details=details,
        flag_version=stepped.version,
        status=RollbackStatus.COMPLETED if finished else RollbackStatus.RUNNING,
        finished_at=uow.now if finished else None,
        next_step_at=None if finished else uow.now + timedelta(seconds=details["bake_seconds"]),
    )
    _audit_step(uow, updated, f"step to {share}% of the exposure")
    emit_event(uow, "rollback.step", environment=record.environment, data=rollback_data(updated))
    if finished:
        emit_event(
            uow, "rollback.completed", environment=record.environment, data=rollback_data(updated)
        )
    return updated


def _cancel(uow: UnitOfWork, record: RollbackRecord, why: str) -> RollbackRecord:
    details = {**record.details, "cancelled": why}
    updated = uow.rollbacks.update(
        record.id,
        status=RollbackStatus.CANCELLED,
        finished_at=uow.now,
        next_step_at=None,
        details=details,
    )
    _audit_step(uow, updated, f"cancelled: {why}")
    emit_event(
        uow, "rollback.cancelled", environment=record.environment, data=rollback_data(updated)
    )
    return updated


def _cancel_running(uow: UnitOfWork, environment: str, key: str, why: str) -> None:
    for running in uow.rollbacks.running(environment, key):
        _cancel(uow, running, why)


# Plans ------------------------------------------------------------------------------------------


def _stop_plans(uow: UnitOfWork, environment: str, key: str, change: Change) -> list[str]:
    """Abort the environment's started, unfinished plans of flag ``key``: the rollback takes
    the flag over, and the controller must not ramp it back up."""
    stopped = []
    for plan in uow.plans.list(environment):
        phase = plan.state.phase
        if plan.state.plan.flag != key or phase in TERMINAL_PHASES or phase is Phase.PENDING:
            continue
        command = Command(
            kind=CommandKind.ABORT,
            actor=change.actor,
            reason=f"the flag was rolled back: {change.reason}",
        )
        command_plan(uow, environment, plan.name, command)
        stopped.append(plan.name)
    return stopped


# Records and announcements ----------------------------------------------------------------------


def _new_record(  # the facts of one rollback, keyword-only after the flag
    uow: UnitOfWork,
    before: FlagRecord,
    request: RollbackRequest,
    change: Change,
    applied: Applied,
    *,
    stopped: list[str],
) -> RollbackRecord:
    running = bool(applied.steps)
    details: dict[str, Any] = {
        "from": exposure_facts(before),
        "to": applied.to,
        "plans_stopped": stopped,
        "applied": [_applied_entry(uow, applied.flag)],
    }
    if request.mode is RollbackMode.GRADUAL:
        details |= {
            "steps": list(applied.steps),
            "all_steps": list(request.steps),
            "start_percent": applied.start_percent,
            "bake_seconds": request.bake.total_seconds(),
        }
    if request.mode is RollbackMode.TARGETED:
        details["targets"] = {
            "users": list(request.users),
            "groups": list(request.groups),
            "orgs": list(request.orgs),
            "org_attribute": request.org_attribute,
        }
    return RollbackRecord(
        id=0,
        environment=before.environment,
        flag=before.key,
        mode=request.mode,
        status=RollbackStatus.RUNNING if running else RollbackStatus.COMPLETED,
        actor=change.actor,
        reason=change.reason,
        started_at=uow.now,
        finished_at=None if running else uow.now,
        next_step_at=uow.now + request.bake if running else None,
        flag_version=applied.flag.version,
        details=details,
    )


def _announce_start(
    uow: UnitOfWork, record: RollbackRecord, before: FlagRecord, change: Change
) -> None:
    record_audit(
        uow,
        AuditAction.FLAG_ROLLED_BACK,
        subject=f"flag:{record.flag}",
        environment=record.environment,
        states=(
            {"version": before.version, **record.details["from"]},
            {"rollback": record.id, "mode": record.mode.value, "to": dict(record.details["to"])},
        ),
        change=Change(actor=change.actor, reason=change.reason),
    )
    data = rollback_data(record)
    emit_event(uow, "rollback.started", environment=record.environment, data=data)
    if record.status is RollbackStatus.COMPLETED:
        emit_event(uow, "rollback.completed", environment=record.environment, data=data)


def _audit_step(uow: UnitOfWork, record: RollbackRecord, what: str) -> None:
    record_audit(
        uow,
        AuditAction.ROLLBACK_STEPPED,
        subject=f"flag:{record.flag}",
        environment=record.environment,
        states=(None, {"rollback": record.id, "status": record.status.value, "what": what}),
        change=Change(actor=record.actor, reason=record.reason),
    )


def rollback_data(record: RollbackRecord) -> dict[str, Any]:
    """A rollback as JSON (webhook payloads, ``--json``, the API)."""
    return {
        "rollback": record.id,
        "flag": record.flag,
        "environment": record.environment,
        "mode": record.mode.value,
        "status": record.status.value,
        "actor": record.actor,
        "reason": record.reason,
        "started_at": record.started_at.isoformat(),
        "finished_at": None if record.finished_at is None else record.finished_at.isoformat(),
        "next_step_at": None if record.next_step_at is None else record.next_step_at.isoformat(),
        "flag_version": record.flag_version,
        "from": dict(record.details.get("from", {})),
        "to": dict(record.details.get("to", {})),
        "steps_left": list(record.details.get("steps", [])),
        "plans_stopped": list(record.details.get("plans_stopped", [])),
        "details": dict(record.details),
    }


def _applied_entry(uow: UnitOfWork, flag: FlagRecord) -> dict[str, Any]:
    return {**exposure_facts(flag), "at": uow.now.isoformat()}
