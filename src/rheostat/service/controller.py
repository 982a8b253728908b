"""The controller's use cases: which plans to tick, and one tick with its look at the gates."""

from __future__ import annotations

from rheostat.service.plan_observer import observe
from rheostat.service.plans import TickReport, apply_tick, locked_plan
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
    record = locked_plan(uow, environment, name)
    observations = observe(uow, record.state, uow.now)
    return apply_tick(uow, record, observations, actor="controller")
