"""The controller's use cases: which plans to tick, and one tick with its look at the gates."""

from __future__ import annotations

from rheostat.inputs import validate_lookup
from rheostat.service.plan_observer import observe
from rheostat.service.plans import TickReport, get_plan, reconcile
from rheostat.store.unit_of_work import UnitOfWork

__all__ = ["active_plans", "tick_plan"]


def active_plans(uow: UnitOfWork) -> list[tuple[str, str]]:
    """``(environment, name)`` of every plan that is running, baking, waiting or rolling back
    (a paused plan too: it may raise a stale alert)."""
    return uow.plans.active()


def tick_plan(uow: UnitOfWork, environment: str, name: str) -> TickReport:
    """Look at the plan's gates and reconcile it, in ``uow``'s transaction.

    The plan's row is locked first, so two controllers never tick one plan at once: the
    second waits and then sees the first one's state (its version moved, nothing is applied
    twice).

    Raises:
        NotFound: no such plan.
    """
    validate_lookup(environment=environment, plan=name)
    uow.environments.get(environment, lock=True)
    get_plan(uow, environment, name)
    locked = uow.plans.find(environment, name, lock=True)
    assert locked is not None  # noqa: S101  # found just above, inside this transaction
    return reconcile(uow, environment, name, observe(uow, locked.state, uow.now))
