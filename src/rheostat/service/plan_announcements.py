"""What a plan tick tells the world: webhook events for the transitions that matter, and its
alerts stored (and sent) in the tick's own transaction."""

from __future__ import annotations

from collections.abc import Sequence

from rheostat.rollout.state import Alert, Phase
from rheostat.service.alerts import raise_alert, resolve_alerts_about
from rheostat.service.events import emit_event
from rheostat.store.operations_records import AlertSeverity
from rheostat.store.records import PlanEvent, PlanRecord
from rheostat.store.unit_of_work import UnitOfWork

__all__ = ["ANNOUNCED_PLAN_EVENTS", "announce_tick"]

ANNOUNCED_PLAN_EVENTS = frozenset(
    {
        "plan.started",
        "plan.paused",
        "plan.resumed",
        "plan.rolling_back",
        "plan.rolled_back",
        "plan.completed",
        "plan.failed",
        "plan.aborted",
    }
)
"""Plan events sent to webhooks (stage-by-stage events stay in the plan's history)."""
_MOVING = frozenset({Phase.RUNNING, Phase.BAKING, Phase.AWAITING_APPROVAL, Phase.COMPLETED})
_HELD_KINDS = ("plan.paused", "plan.stale", "gate.no_data")
_SEVERITIES = {"critical": AlertSeverity.CRITICAL}


def announce_tick(
    uow: UnitOfWork,
    record: PlanRecord,
    events: Sequence[PlanEvent],
    alerts: Sequence[Alert],
) -> None:
    """Emit the tick's announced events and store its alerts; a plan moving again resolves
    its pause, stale and no-data alerts."""
    state = record.state
    subject = f"plan:{record.name}"
    if state.phase in _MOVING and events:
        resolve_alerts_about(
            uow, record.environment, subject, kinds=_HELD_KINDS, why=f"the plan is {state.phase}"
        )
    for event in events:
        if event.type in ANNOUNCED_PLAN_EVENTS:
            emit_event(
                uow,
                event.type,
                environment=record.environment,
                data={
                    "plan": record.name,
                    "flag": state.plan.flag,
                    "state": state.phase.value,
                    "stage": event.stage + 1,
                    "percent": state.exposure.percent,
                    "message": event.message,
                    "actor": event.actor,
                    "evidence": dict(event.evidence),
                },
            )
    for alert in alerts:
        raise_alert(
            uow,
            record.environment,
            kind=alert.kind,
            severity=_SEVERITIES.get(alert.severity, AlertSeverity.WARNING),
            subject=subject,
            message=alert.message,
            evidence={"plan": record.name, "flag": state.plan.flag, "phase": state.phase.value},
        )
