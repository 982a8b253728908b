"""One round of the operations the controller loop runs besides ticking plans.

``run_operations(store)`` steps the gradual rollbacks that are due (each in its own
transaction), evaluates the alert rules (one transaction), then sends the webhook outbox.
One part failing (a database error, a rollback that conflicts) is logged and counted, and
the others still run: a broken alert rule must not hold a rollback back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from rheostat.errors import RheostatError
from rheostat.service.alerts import evaluate_alerts
from rheostat.service.rollbacks import due_rollbacks, step_rollback
from rheostat.service.webhook_dispatch import DispatchPolicy, DispatchReport, deliver_webhooks
from rheostat.store import SqlStore

__all__ = ["OperationsReport", "run_operations"]

logger = logging.getLogger("rheostat.operations")


@dataclass(frozen=True, slots=True, kw_only=True)
class OperationsReport:
    """What one round did.

    Attributes:
        rollback_steps: gradual rollback steps applied (or rollbacks stopped).
        alerts_changed: alerts that fired, changed severity or resolved.
        deliveries: the outbox pass.
        errors: what failed, one line each (the round went on).
    """

    rollback_steps: int = 0
    alerts_changed: int = 0
    deliveries: DispatchReport = field(default_factory=DispatchReport)
    errors: tuple[str, ...] = ()


def run_operations(store: SqlStore, policy: DispatchPolicy | None = None) -> OperationsReport:
    """Step due rollbacks, evaluate alerts, deliver webhooks; never raises a rheostat error."""
    errors: list[str] = []
    steps = _step_rollbacks(store, errors)
    changed = 0
    try:
        with store.unit_of_work() as uow:
            changed = len(evaluate_alerts(uow))
    except RheostatError as error:
        errors.append(f"alerts: {error.message}")
    deliveries = DispatchReport()
    try:
        deliveries = deliver_webhooks(store, policy)
    except RheostatError as error:
        errors.append(f"webhooks: {error.message}")
    for line in errors:
        logger.warning("rheostat: operations round: %s", line)
    return OperationsReport(
        rollback_steps=steps,
        alerts_changed=changed,
        deliveries=deliveries,
        errors=tuple(errors),
    )


def _step_rollbacks(store: SqlStore, errors: list[str]) -> int:
    try:
        with store.reading() as uow:
            due = due_rollbacks(uow)
    except RheostatError as error:
        errors.append(f"rollbacks: {error.message}")
        return 0
    stepped = 0
    for rollback_id in due:
        try:
            with store.unit_of_work() as uow:
                step_rollback(uow, rollback_id)
            stepped += 1
        except RheostatError as error:
            errors.append(f"rollback {rollback_id}: {error.message}")
    return stepped
