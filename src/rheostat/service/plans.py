"""Release plans: stored, commanded and reconciled, each change in the caller's transaction.

``reconcile`` is one controller tick: load the plan (its row locked), ``decide`` purely, then
in the SAME transaction store the new state, change the flag (a normal flag version with its
audit event) and record the events with their evidence. A crash anywhere leaves all of it or
none of it, so no stage is ever applied twice. ``command_plan`` is an operator's command
(start, pause, resume, approve, advance, abort, rollback) applied the same way at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rheostat.errors import NotFound
from rheostat.flags.edits import bool_variants, with_enabled, with_exposure
from rheostat.inputs import validate_lookup
from rheostat.rollout import Plan
from rheostat.rollout.machine import decide
from rheostat.rollout.state import (
    Action,
    Alert,
    Command,
    Decision,
    KillFlag,
    Observations,
    PlanState,
    RecordEvent,
    RunStage,
    SetExposure,
)
from rheostat.service.audit import record_audit
from rheostat.service.change import Change
from rheostat.service.flag_changes import FlagWrite, change_flag, live_flag
from rheostat.service.plan_announcements import announce_tick
from rheostat.store.records import AuditAction, PlanEvent, PlanRecord
from rheostat.store.unit_of_work import UnitOfWork

__all__ = [
    "TickReport",
    "apply_tick",
    "command_plan",
    "create_plan",
    "get_plan",
    "list_plans",
    "locked_plan",
    "plan_events",
    "plan_status_document",
    "reconcile",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class TickReport:
    """What a tick did: the plan as stored after it, and the work left for the edge.

    Attributes:
        plan: the stored plan (new state and version).
        run: check or backfill stages to run now (their outcome comes back next tick).
        alerts: alerts to send once the transaction has committed.
        changed: whether anything was stored.
    """

    plan: PlanRecord
    run: tuple[RunStage, ...] = ()
    alerts: tuple[Alert, ...] = ()
    changed: bool = False


def create_plan(uow: UnitOfWork, plan: Plan, *, change: Change) -> PlanRecord:
    """Store a plan, pending. Its flag must exist and be an on/off flag.

    Raises:
        NotFound: no such environment or flag. ValidationError: not an on/off flag.
        AlreadyExists: a plan of that name exists in the environment.
    """
    validate_lookup(environment=plan.environment, plan=plan.name, flag=plan.flag)
    uow.environments.get(plan.environment, lock=True)
    flag = live_flag(uow, plan.environment, plan.flag)
    bool_variants(flag.definition, plan.flag)
    record = uow.plans.add(PlanState(plan=plan), at=uow.now)
    record_audit(
        uow,
        AuditAction.PLAN_CREATED,
        subject=f"plan:{plan.name}",
        environment=plan.environment,
        states=(None, {"flag": plan.flag, "stages": len(plan.stages)}),
        change=change,
    )
    return record


def get_plan(uow: UnitOfWork, environment: str, name: str) -> PlanRecord:
    """Return the plan. Raises ``NotFound``."""
    validate_lookup(environment=environment, plan=name)
    found = uow.plans.find(environment, name)
    if found is None:
        raise _not_found(environment, name)
    return found


def list_plans(uow: UnitOfWork, environment: str) -> list[PlanRecord]:
    """Return the environment's plans, sorted by name. Raises ``NotFound`` (environment)."""
    validate_lookup(environment=environment)
    return uow.plans.list(environment)


def plan_events(uow: UnitOfWork, environment: str, name: str) -> list[PlanEvent]:
    """Return the plan's events (transitions with their evidence), oldest first."""
    validate_lookup(environment=environment, plan=name)
    return uow.plans.events(environment, name)


def plan_status_document(record: PlanRecord, events: list[PlanEvent]) -> dict[str, Any]:
    """A plan's status as JSON (``rollout status --json``, ``GET /api/v1/plans/{name}``):
    ``state``, ``stage`` (1-based; ``None`` once past the last), ``percent`` and ``events``
    (``{type, stage, at, message, actor, evidence}``)."""
    state = record.state
    return {
        "plan": record.name,
        "environment": record.environment,
        "flag": state.plan.flag,
        "state": state.phase.value,
        "stage": state.stage + 1 if state.stage < len(state.plan.stages) else None,
        "stages": len(state.plan.stages),
        "percent": state.exposure.percent,
        "holdback_percent": state.exposure.holdback_percent,
        "message": state.message,
        "version": record.version,
        "events": [
            {
                "type": event.type,
                "stage": event.stage + 1,
                "at": event.at.isoformat(),
                "message": event.message,
                "actor": event.actor,
                "evidence": dict(event.evidence),
            }
            for event in events
        ],
    }


def command_plan(uow: UnitOfWork, environment: str, name: str, command: Command) -> TickReport:
    """Apply an operator's command now; gates and stages wait for the next controller look.

    Raises:
        NotFound: no such plan.
    """
    observed = Observations(commands=(command,), looked=False)
    return reconcile(uow, environment, name, observed, actor=command.actor)


def reconcile(
    uow: UnitOfWork,
    environment: str,
    name: str,
    observations: Observations,
    *,
    actor: str = "controller",
) -> TickReport:
    """One tick: decide at ``uow.now``, then store the state, flag changes and events.

    Raises:
        NotFound: no such plan (or its flag was deleted).
    """
    return apply_tick(uow, locked_plan(uow, environment, name), observations, actor=actor)


def locked_plan(uow: UnitOfWork, environment: str, name: str) -> PlanRecord:
    """Return the plan with its row (and its environment's) locked until commit, so two
    controllers never tick one plan at once. Raises ``NotFound``."""
    validate_lookup(environment=environment, plan=name)
    uow.environments.get(environment, lock=True)
    record = uow.plans.find(environment, name, lock=True)
    if record is None:
        raise _not_found(environment, name)
    return record


def apply_tick(
    uow: UnitOfWork, record: PlanRecord, observations: Observations, *, actor: str
) -> TickReport:
    """Decide for the locked ``record``, then store what changed, in ``uow``'s transaction."""
    decision = decide(record.state, observations, uow.now)
    if not decision.changed and decision.state == record.state:
        return TickReport(plan=record)
    stored = uow.plans.save(record, decision.state, at=uow.now)
    _apply(uow, stored, decision, actor)
    return TickReport(
        plan=stored,
        run=tuple(a for a in decision.actions if isinstance(a, RunStage)),
        alerts=tuple(a for a in decision.actions if isinstance(a, Alert)),
        changed=True,
    )


def _apply(uow: UnitOfWork, record: PlanRecord, decision: Decision, actor: str) -> None:
    plan = record.state.plan
    events: list[PlanEvent] = []
    for action in decision.actions:
        if isinstance(action, SetExposure | KillFlag):
            _change_flag(uow, plan, action)
        elif isinstance(action, RecordEvent):
            events.append(_event(record, action, uow, actor))
    uow.plans.add_events(record, events)
    for event in events:
        _audit(uow, plan, event)
    # webhooks (outbox) and alerts, in the tick's transaction
    announce_tick(uow, record, events, [a for a in decision.actions if isinstance(a, Alert)])


def _change_flag(uow: UnitOfWork, plan: Plan, action: Action) -> None:
    change = Change(actor=f"plan:{plan.name}", reason=getattr(action, "reason", None))
    if isinstance(action, KillFlag):
        write = FlagWrite(action=AuditAction.FLAG_KILLED, change=change, always=True)

        def edit(definition: Mapping[str, Any]) -> Mapping[str, Any]:
            return with_enabled(definition, enabled=False)

    else:
        assert isinstance(action, SetExposure)  # noqa: S101  # the caller sent one of the two
        exposure = action.exposure
        write = FlagWrite(action=AuditAction.FLAG_ROLLOUT_SET, change=change)

        def edit(definition: Mapping[str, Any]) -> Mapping[str, Any]:
            return with_exposure(
                definition,
                plan.flag,
                percent=exposure.percent,
                holdback_percent=exposure.holdback_percent,
                segments=exposure.segments,
                keep_other_audiences=action.keep_other_audiences,
            )

    change_flag(uow, plan.environment, plan.flag, edit, write)


def _event(record: PlanRecord, action: RecordEvent, uow: UnitOfWork, actor: str) -> PlanEvent:
    return PlanEvent(
        environment=record.environment,
        plan=record.name,
        at=uow.now,
        type=action.type,
        stage=action.stage,
        message=action.message,
        evidence=dict(action.evidence),
        actor=actor,
    )


def _audit(uow: UnitOfWork, plan: Plan, event: PlanEvent) -> None:
    record_audit(
        uow,
        AuditAction.PLAN_TRANSITION,
        subject=f"plan:{plan.name}",
        environment=plan.environment,
        states=(
            None,
            {
                "type": event.type,
                "stage": event.stage,
                "message": event.message,
                "evidence": dict(event.evidence),
            },
        ),
        change=Change(actor=event.actor, reason=event.message[:2000]),
    )


def _not_found(environment: str, name: str) -> NotFound:
    return NotFound(
        f"plan {name!r} does not exist in environment {environment!r}",
        details={"environment": environment, "plan": name},
    )
