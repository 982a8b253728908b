"""Looking at a plan's gates: metric windows, probes and callables into verdicts.

The I/O half of a tick (the verdicts are computed by the pure ``rheostat.rollout`` gates):

* holdback gates compare variant ``on`` with variant ``holdback`` over the windows since the
  stage began (the always-valid sequential guard, so a look every tick stays honest); a stage
  without a holdback (100 %, or one that asks for none) is not judged by them, and says so;
* threshold gates read variant ``on`` over the same windows, against variant ``off`` (the
  rest, served the old behaviour at the same time) as the baseline of ``max_ratio``;
* the assignment check compares the units counted in each arm by the first holdback gate;
* HTTP probes and callables run with their timeout; a failure is an ``error``, never a pass.
* Check-suite gates are not run at each look yet: they answer ``error``.

A ``check`` stage's outcome is its newest stored check run (``check_stages``); ``backfill``
stages get a placeholder ``pass`` (with that evidence) until the backfill engine lands.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from datetime import datetime

import httpx

from rheostat.metrics import WindowKind, WindowTotals
from rheostat.rollout import (
    ArmMeasurement,
    BackfillStage,
    CallableGate,
    CheckGate,
    CheckStage,
    Gate,
    GateVerdict,
    HoldbackGate,
    HttpGate,
    Measurement,
    Outcome,
    ThresholdGate,
    Verdict,
    assess_assignment,
    assess_holdback,
    assess_outcome,
    assess_threshold,
    holdback_settings_by_gate,
)
from rheostat.rollout.state import Observations, PlanState
from rheostat.service.check_stages import check_stage_verdict
from rheostat.stats import GuardSettings, ProportionStats, SampleStats
from rheostat.store.unit_of_work import UnitOfWork

__all__ = ["observe"]

TREATMENT, HOLDBACK, REST = "on", "holdback", "off"


def observe(uow: UnitOfWork, state: PlanState, now: datetime) -> Observations:
    """Look at every gate of the plan's current stage (and the stage's own outcome)."""
    plan = state.plan
    since = state.stage_started_at or now
    settings = holdback_settings_by_gate(plan.gates)
    looks = tuple(_look(uow, state, gate, (since, now), settings) for gate in plan.gates)
    return Observations(
        verdicts=looks,
        stage_outcome=_stage_outcome(uow, state, now),
        assignment=_assignment(uow, state, since, now),
    )


def _look(
    uow: UnitOfWork,
    state: PlanState,
    gate: Gate,
    window: tuple[datetime, datetime],
    settings: Mapping[str, GuardSettings],
) -> GateVerdict:
    since, now = window
    if isinstance(gate, HoldbackGate):
        return _holdback(uow, state, gate, window, settings[gate.name])
    if isinstance(gate, ThresholdGate):
        return _threshold(uow, state, gate, since, now)
    if isinstance(gate, HttpGate):
        return assess_outcome(gate, _probe(gate, now))
    if isinstance(gate, CallableGate):
        return assess_outcome(gate, _call(gate, state.exposure.percent, now))
    assert isinstance(gate, CheckGate)  # noqa: S101  # the Gate union is exhausted
    missing = Outcome(ok=None, at=now, error="check suites arrive with the data issue (issue 11)")
    return assess_outcome(gate, missing)


def _totals(
    uow: UnitOfWork, state: PlanState, metric: str, since: datetime, now: datetime
) -> dict[tuple[str, WindowKind], WindowTotals]:
    plan = state.plan
    return uow.metrics.totals(plan.environment, plan.flag, metric, since=since, until=now)


def _holdback(
    uow: UnitOfWork,
    state: PlanState,
    gate: HoldbackGate,
    window: tuple[datetime, datetime],
    settings: GuardSettings,
) -> GateVerdict:
    since, now = window
    if state.exposure.holdback_percent <= 0:
        return GateVerdict(
            gate=gate.name,
            verdict=Verdict.PASS,
            message="not judged: this stage keeps no holdback to compare with",
            evidence={"applicable": False, "percent": state.exposure.percent},
        )
    totals = _totals(uow, state, gate.metric, since, now)
    return assess_holdback(
        gate,
        _arm(gate.metric, totals, TREATMENT, now),
        _arm(gate.metric, totals, HOLDBACK, now),
        settings=settings,
    )


def _arm(
    metric: str, totals: dict[tuple[str, WindowKind], WindowTotals], variant: str, now: datetime
) -> ArmMeasurement:
    found = _variant(totals, variant)
    if found is None or found.kind is WindowKind.PROPORTION:
        n, successes = (0, 0) if found is None else (found.n, int(found.sum))
        stats: SampleStats | ProportionStats = ProportionStats(n, successes)
        units = n
    else:
        stats = SampleStats(found.n, found.sum, found.sum_squares)
        units = found.n
    return ArmMeasurement(metric=metric, stats=stats, units=units, at=now)


def _variant(
    totals: dict[tuple[str, WindowKind], WindowTotals], variant: str
) -> WindowTotals | None:
    return next((t for (name, _), t in totals.items() if name == variant), None)


def _threshold(
    uow: UnitOfWork, state: PlanState, gate: ThresholdGate, since: datetime, now: datetime
) -> GateVerdict:
    if gate.source != "builtin":
        failed = Measurement.failed(gate.metric, f"{gate.source} sources arrive later", at=now)
        return assess_threshold(gate, failed)
    totals = _totals(uow, state, gate.metric, since, now)
    return assess_threshold(
        gate,
        _value(gate.metric, _variant(totals, TREATMENT), now),
        baseline=_value(gate.metric, _variant(totals, REST), now),
    )


def _value(metric: str, totals: WindowTotals | None, now: datetime) -> Measurement:
    if totals is None or totals.n == 0:
        return Measurement(metric=metric, value=None, n=0, at=now)
    return Measurement(metric=metric, value=totals.sum / totals.n, n=totals.n, at=now)


def _assignment(
    uow: UnitOfWork, state: PlanState, since: datetime, now: datetime
) -> GateVerdict | None:
    if state.exposure.holdback_percent <= 0:
        return None
    gate = next((g for g in state.plan.gates if isinstance(g, HoldbackGate)), None)
    if gate is None:
        return None
    totals = _totals(uow, state, gate.metric, since, now)
    treated, held = _variant(totals, TREATMENT), _variant(totals, HOLDBACK)
    ratio = state.exposure.percent / state.exposure.holdback_percent
    return assess_assignment(
        0 if treated is None else treated.n,
        0 if held is None else held.n,
        expected_ratio=ratio,
    )


def _stage_outcome(uow: UnitOfWork, state: PlanState, now: datetime) -> GateVerdict | None:
    stages = state.plan.stages
    if state.stage >= len(stages) or state.stage_started_at is None:
        return None
    stage = stages[state.stage]
    if isinstance(stage, CheckStage):
        return check_stage_verdict(uow, state, now)
    if not isinstance(stage, BackfillStage):
        return None
    kind = "backfill"
    return GateVerdict(
        gate=kind,
        verdict=Verdict.PASS,
        message=f"{kind} stages pass as placeholders until the data issue (11) lands",
        evidence={"placeholder": True, "at": now.isoformat()},
    )


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
    except Exception as error:  # noqa: BLE001  # a user's callable: any failure is an error verdict
        return Outcome(ok=None, at=now, error=f"{type(error).__name__}: {error}")
    return Outcome(ok=bool(ok), at=now, detail={"target": gate.target, "percent": percent})


def _import(target: str) -> Callable[[float], object]:
    module, _, name = target.partition(":")
    found = getattr(importlib.import_module(module), name)
    if not callable(found):
        raise TypeError(f"{target} is not callable")
    return found  # type: ignore[no-any-return]
