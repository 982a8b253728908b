"""Looking at a plan's gates: metric windows, probes and callables into verdicts.

The I/O half of a tick. Metric gates (holdback comparisons, thresholds on the built-in
windows, the assignment check) are judged by the pure ``rheostat.rollout.looks`` from the
totals of the store's metric windows since the stage began; HTTP probes and callables run
here with their timeout (a failure is an ``error``, never a pass).

* A check-suite gate reads the newest run the controller stored for it since the stage began
  (``check_gates``): the suites run after the tick, never in a look.
* A Prometheus threshold source is one PromQL query per look (``service.prometheus``).

A ``check`` stage's outcome is its newest stored check run (``check_stages``); a ``backfill``
stage's is its job as the store knows it (``backfill_stages``: copying, failed, or completed
and verified).
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import httpx

from rheostat.rollout import (
    BackfillStage,
    CallableGate,
    CheckGate,
    CheckStage,
    Gate,
    GateVerdict,
    HttpGate,
    Measurement,
    Outcome,
    ThresholdGate,
    Verdict,
    assess_outcome,
    assess_threshold,
)
from rheostat.rollout.looks import Totals, observations, sketched_metrics
from rheostat.rollout.state import Observations, PlanState
from rheostat.service.backfill_stages import backfill_stage_verdict
from rheostat.service.check_gates import check_gate_verdict
from rheostat.service.check_stages import check_stage_verdict
from rheostat.service.prometheus import MetricSources, query_prometheus
from rheostat.store.unit_of_work import UnitOfWork

__all__ = ["observe"]


def observe(
    uow: UnitOfWork, state: PlanState, now: datetime, *, sources: MetricSources | None = None
) -> Observations:
    """Look at every gate of the plan's current stage (and the stage's own outcome);
    ``sources`` says where metrics other than the built-in windows come from."""
    reachable = sources or MetricSources()
    plan = state.plan
    since = state.stage_started_at or now
    sketched = sketched_metrics(plan)

    def totals_of(metric: str) -> Totals:
        return uow.metrics.totals(
            plan.environment, plan.flag, metric, since=since, until=now, sketches=metric in sketched
        )

    return observations(
        state,
        now,
        totals_of=totals_of,
        judge=lambda gate: _judge(uow, state, gate, now, reachable),
        stage_outcome=_stage_outcome(uow, state, now),
    )


def _judge(
    uow: UnitOfWork, state: PlanState, gate: Gate, now: datetime, sources: MetricSources
) -> GateVerdict:
    """The gates that do not read the built-in metric windows."""
    if isinstance(gate, ThresholdGate):
        if gate.source == "prometheus" and gate.query is not None:
            return assess_threshold(
                gate, query_prometheus(sources, gate.metric, gate.query, at=now)
            )
        failed = Measurement.failed(gate.metric, f"unknown source {gate.source!r}", at=now)
        return assess_threshold(gate, failed)
    if isinstance(gate, HttpGate):
        return assess_outcome(gate, _probe(gate, now))
    if isinstance(gate, CallableGate):
        return assess_outcome(gate, _call(gate, state.exposure.percent, now))
    if isinstance(gate, CheckGate):
        return check_gate_verdict(uow, state, gate, now)
    return GateVerdict(gate=gate.name, verdict=Verdict.ERROR, message="judged from metric windows")


def _stage_outcome(uow: UnitOfWork, state: PlanState, now: datetime) -> GateVerdict | None:
    stages = state.plan.stages
    if state.stage >= len(stages) or state.stage_started_at is None:
        return None
    stage = stages[state.stage]
    if isinstance(stage, CheckStage):
        return check_stage_verdict(uow, state, now)
    if isinstance(stage, BackfillStage):
        return backfill_stage_verdict(uow, state, now)
    return None


def _probe(gate: HttpGate, now: datetime) -> Outcome:
    try:
        response = httpx.get(gate.url, timeout=gate.timeout.total_seconds())
    except httpx.HTTPError as error:
        return Outcome(ok=None, at=now, error=f"{type(error).__name__}: {error}")
    detail = {"status": response.status_code, "url": gate.url}
    return Outcome(ok=response.status_code == gate.expect_status, at=now, detail=detail)


def _call(gate: CallableGate, percent: float, now: datetime) -> Outcome:
    try:
        function = _import(gate.target)
        ok = function(percent)
        if inspect.isawaitable(ok):  # seed 001's validation_func is `async def`
            ok = _await(ok, gate.timeout.total_seconds())
    except Exception as error:  # noqa: BLE001  # a user's callable: any failure is an error verdict
        return Outcome(ok=None, at=now, error=f"{type(error).__name__}: {error}")
    return Outcome(ok=bool(ok), at=now, detail={"target": gate.target, "percent": percent})


def _await(awaitable: Awaitable[object], timeout_s: float) -> object:
    """Run a coroutine to its end on a loop of its own (in a worker thread, so a caller that
    already runs an event loop works too), or raise ``TimeoutError``."""

    async def wait() -> object:
        return await awaitable

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rheostat-gate")
    try:
        return pool.submit(asyncio.run, wait()).result(timeout=timeout_s)
    finally:
        pool.shutdown(wait=False)


def _import(target: str) -> Callable[[float], object]:
    module, _, name = target.partition(":")
    found = getattr(importlib.import_module(module), name)
    if not callable(found):
        raise TypeError(f"{target} is not callable")
    return found  # type: ignore[no-any-return]
