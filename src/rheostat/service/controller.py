"""The controller's use cases: leases on plans, a look at their gates, and one tick each.

Several controllers may run against one database. Each pass a controller claims the active
plans nobody else holds (``claim_plans``: a lease with an expiry, ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL), looks at their gates in a read-only transaction (``observe_plan``: metric windows,
HTTP probes and callables, without holding a write lock while a probe waits), then applies
the look in a write transaction (``apply_observation``) only if it still holds the lease and
the plan has not moved since the look. A controller that dies keeps its plans until the lease
expires; then another takes them over. Whatever the timing, a stage is applied once: the
plan's row is locked and its version checked in the transaction that changes the flag.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from rheostat.checks import CheckRun
from rheostat.rollout import BackfillStage, CheckStage
from rheostat.rollout.state import Observations, Phase, RunStage
from rheostat.service.backfill_stages import StartedWorker, start_backfill_stage
from rheostat.service.check_stages import run_check_stage
from rheostat.service.plan_observer import observe
from rheostat.service.plans import TickReport, apply_tick, get_plan, locked_plan
from rheostat.service.prometheus import MetricSources
from rheostat.store.database import SqlStore
from rheostat.store.records import PlanRecord
from rheostat.store.unit_of_work import UnitOfWork

__all__ = [
    "Look",
    "StageRuns",
    "active_plans",
    "apply_observation",
    "claim_plans",
    "observe_plan",
    "release_plans",
    "run_stage_work",
    "stage_work",
    "tick_plan",
]


@dataclass(frozen=True, slots=True)
class Look:
    """What a controller saw of one plan: the plan as read, and its gates' observations."""

    plan: PlanRecord
    observations: Observations


def active_plans(uow: UnitOfWork) -> list[tuple[str, str]]:
    """``(environment, name)`` of every plan that is running, baking, waiting or rolling back
    (a paused plan too: it may raise a stale alert)."""
    return uow.plans.active()


def claim_plans(
    uow: UnitOfWork, owner: str, *, lease: timedelta, limit: int = 100
) -> list[tuple[str, str]]:
    """Lease to ``owner``, until ``lease`` from now, the active plans it may tick: the ones it
    holds, the ones nobody holds, and the ones whose holder's lease expired. Renews the
    leases it holds. Returns ``(environment, name)`` pairs, oldest plan first."""
    now = uow.now
    return uow.plans.claim(owner, now=now, until=now + lease, limit=limit)


def release_plans(uow: UnitOfWork, owner: str) -> int:
    """Give up ``owner``'s leases (a controller stopping), so another takes over at once."""
    return uow.plans.release(owner)


def observe_plan(
    uow: UnitOfWork, environment: str, name: str, *, sources: MetricSources | None = None
) -> Look:
    """Look at the plan's gates at ``uow.now`` (``sources``: where a Prometheus gate reads).
    Needs no write: call it in a read-only transaction. Raises ``NotFound``."""
    record = get_plan(uow, environment, name)
    return Look(record, observe(uow, record.state, uow.now, sources=sources))


def apply_observation(uow: UnitOfWork, look: Look, *, owner: str) -> TickReport | None:
    """Reconcile the plan with ``look`` in ``uow``'s transaction, if ``owner`` still holds its
    lease and the plan is the version that was looked at; otherwise change nothing and
    return ``None`` (the next pass looks again).

    Raises:
        NotFound: the plan was deleted.
    """
    seen = look.plan
    record = locked_plan(uow, seen.environment, seen.name)
    holder, _until = uow.plans.lease(seen.environment, seen.name)
    if holder != owner or record.version != seen.version:
        return None
    return apply_tick(uow, record, look.observations, actor="controller")


def stage_work(look: Look, report: TickReport | None) -> tuple[RunStage, ...]:
    """The check or backfill stages the controller must run once this tick has committed:
    the ones the tick started; or the current stage, still running, if the look found it
    waiting for a run (``awaiting_run`` evidence): one that a controller which died after its
    commit never made, or a backfill whose worker is gone."""
    if report is None:
        return ()  # the lease was lost or the plan moved: whoever holds it runs it
    if report.run:
        return report.run
    outcome = look.observations.stage_outcome
    state = report.plan.state
    waiting = outcome is not None and outcome.evidence.get("awaiting_run") is True
    if waiting and state.phase is Phase.RUNNING and state.stage == look.plan.state.stage:
        return (RunStage(stage=state.stage),)
    return ()


@dataclass(frozen=True, slots=True)
class StageRuns:
    """What ``run_stage_work`` did: the check runs it stored and the backfill workers it
    started (or found a job file that cannot run)."""

    checks: list[CheckRun] = field(default_factory=list)
    backfills: list[StartedWorker] = field(default_factory=list)


def run_stage_work(
    store: SqlStore,
    record: PlanRecord,
    runs: Sequence[RunStage],
    *,
    checks_dir: Path,
    backfills_dir: Path,
    environ: Mapping[str, str],
) -> StageRuns:
    """Do the stage work ``stage_work`` returned, by kind: run a check stage's suite (and store
    it), start a backfill stage's worker (detached; it returns at once). Call it after the
    tick's commit, with no transaction open."""
    done = StageRuns()
    stages = record.state.plan.stages
    for action in runs:
        if not 0 <= action.stage < len(stages):
            continue
        stage = stages[action.stage]
        if isinstance(stage, CheckStage):
            done.checks.append(
                run_check_stage(
                    store,
                    record.environment,
                    record.name,
                    action.stage,
                    checks_dir=checks_dir,
                    environ=environ,
                )
            )
        elif isinstance(stage, BackfillStage):
            started = start_backfill_stage(
                store, record, action.stage, backfills_dir=backfills_dir, environ=environ
            )
            if started is not None:
                done.backfills.append(started)
    return done


def tick_plan(
    uow: UnitOfWork, environment: str, name: str, *, sources: MetricSources | None = None
) -> TickReport:
    """Look at the plan's gates and reconcile it, all in ``uow``'s transaction (one
    controller, or a test). The row is locked first, so a second tick waits and then sees
    the first one's state.

    Raises:
        NotFound: no such plan.
    """
    record = locked_plan(uow, environment, name)
    observations = observe(uow, record.state, uow.now, sources=sources)
    return apply_tick(uow, record, observations, actor="controller")
