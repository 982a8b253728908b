"""One look at a plan's gates, from metric totals: the pure half of the controller's observer.

The controller (``service.plan_observer``) reads the totals of each metric from the store's
metric windows; ``rheostat simulate`` makes them up from a scenario. Both then call
``observations`` here, so a simulation judges exactly as production does:

* holdback gates compare variant ``on`` with variant ``holdback`` over the windows since the
  stage began (the always-valid sequential guard, so a look every tick stays honest); a stage
  without a holdback (100 %, or one that asks for none) is not judged by them, and says so;
* threshold gates read variant ``on`` over the same windows, against variant ``off`` (the
  rest, served the old behaviour at the same time; the ``holdback`` when a stage leaves no
  rest, as 50 % with its 50 % holdback does) as the baseline of ``max_ratio`` (not judged
  once everyone has the change: no baseline is left; absolute limits still are): the mean
  of the values, or with ``quantile`` that quantile of their merged sketches;
* the assignment check compares the units counted in each arm by the first holdback gate;
* every other gate (HTTP probe, callable, check suite, a Prometheus source) is judged by the
  caller's ``judge``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime

from rheostat.metrics import WindowKind, WindowTotals
from rheostat.rollout.gates import assess_threshold
from rheostat.rollout.holdback import assess_assignment, assess_holdback, holdback_settings_by_gate
from rheostat.rollout.measurements import ArmMeasurement, Measurement
from rheostat.rollout.model import Gate, HoldbackGate, Plan, RampStage, ThresholdGate
from rheostat.rollout.state import Observations, PlanState
from rheostat.rollout.stopping import holdback_share
from rheostat.rollout.verdicts import GateVerdict, Verdict
from rheostat.stats import GuardSettings, ProportionStats, SampleStats

__all__ = [
    "HOLDBACK",
    "REST",
    "TREATMENT",
    "Totals",
    "TotalsOf",
    "holdback_stages",
    "observations",
    "sketched_metrics",
]

TREATMENT, HOLDBACK, REST = "on", "holdback", "off"
"""The variants metric windows are sent for: the change, its holdback, everyone else."""

Totals = Mapping[tuple[str, WindowKind], WindowTotals]
"""A metric's sums over the look's windows, per ``(variant, kind)``."""

TotalsOf = Callable[[str], Totals]
"""The totals of a metric (by name) over the windows since the current stage began."""


def observations(
    state: PlanState,
    now: datetime,
    *,
    totals_of: TotalsOf,
    judge: Callable[[Gate], GateVerdict],
    stage_outcome: GateVerdict | None = None,
) -> Observations:
    """Look at every gate of the plan at ``now``: metric gates from ``totals_of`` (each metric
    asked for once), the others through ``judge``."""
    memo: dict[str, Totals] = {}

    def totals(metric: str) -> Totals:
        if metric not in memo:
            memo[metric] = totals_of(metric)
        return memo[metric]

    settings = holdback_settings_by_gate(
        state.plan.gates, holdback_stages=holdback_stages(state.plan)
    )
    verdicts = []
    for gate in state.plan.gates:
        if isinstance(gate, HoldbackGate):
            verdicts.append(_holdback(state, gate, totals, settings[gate.name], now))
        elif isinstance(gate, ThresholdGate) and gate.source == "builtin":
            verdicts.append(_threshold(state, gate, totals(gate.metric), now))
        else:
            verdicts.append(judge(gate))
    return Observations(
        verdicts=tuple(verdicts),
        stage_outcome=stage_outcome,
        assignment=_assignment(state, totals),
    )


def sketched_metrics(plan: Plan) -> frozenset[str]:
    """The metrics a built-in gate judges by a quantile: their totals must carry sketches."""
    return frozenset(
        gate.metric
        for gate in plan.gates
        if isinstance(gate, ThresholdGate) and gate.source == "builtin" and gate.quantile
    )


def holdback_stages(plan: Plan) -> int:
    """How many of the plan's stages keep a holdback (at least 1): each is a fresh series of
    looks for the holdback gates, so the plan's alpha is split over them."""
    kept = sum(
        isinstance(stage, RampStage) and stage.holdback and holdback_share(stage.percent) > 0
        for stage in plan.stages
    )
    return max(1, kept)


def _holdback(
    state: PlanState,
    gate: HoldbackGate,
    totals: TotalsOf,
    settings: GuardSettings,
    now: datetime,
) -> GateVerdict:
    if state.exposure.holdback_percent <= 0:
        return GateVerdict(
            gate=gate.name,
            verdict=Verdict.PASS,
            message="not judged: this stage keeps no holdback to compare with",
            evidence={"applicable": False, "percent": state.exposure.percent},
        )
    found = totals(gate.metric)
    return assess_holdback(
        gate,
        _arm(gate.metric, found, TREATMENT, now),
        _arm(gate.metric, found, HOLDBACK, now),
        settings=settings,
    )


def _arm(metric: str, totals: Totals, variant: str, now: datetime) -> ArmMeasurement:
    found = _variant(totals, variant)
    if found is None or found.kind is WindowKind.PROPORTION:
        n, successes = (0, 0) if found is None else (found.n, int(found.sum))
        stats: SampleStats | ProportionStats = ProportionStats(n, successes)
        units = n
    else:
        stats = SampleStats(found.n, found.sum, found.sum_squares)
        units = found.n
    return ArmMeasurement(metric=metric, stats=stats, units=units, at=now)


def _variant(totals: Totals, variant: str) -> WindowTotals | None:
    return next((t for (name, _), t in totals.items() if name == variant), None)


def _threshold(state: PlanState, gate: ThresholdGate, totals: Totals, now: datetime) -> GateVerdict:
    rest = _variant(totals, REST)
    if rest is None or rest.n == 0:  # a 50 % stage with its 50 % holdback leaves no rest
        rest = _variant(totals, HOLDBACK)
    exposure = state.exposure
    if gate.max_ratio is not None and exposure.percent >= 100 and not exposure.segments:
        return _without_baseline(gate, totals, now)
    return assess_threshold(
        gate,
        _value(gate, _variant(totals, TREATMENT), now),
        baseline=_value(gate, rest, now),
    )


def _without_baseline(gate: ThresholdGate, totals: Totals, now: datetime) -> GateVerdict:
    """Everyone has the change: nobody is left on the old behaviour to be a baseline, so the
    ratio is not judged (as holdback gates are not without a holdback); absolute limits are."""
    if gate.max is None and gate.min is None:
        return GateVerdict(
            gate=gate.name,
            verdict=Verdict.PASS,
            message=f"not judged: everyone has the change, no baseline is left for "
            f"{gate.measured} <= {gate.max_ratio:g}x baseline",
            evidence={"applicable": False, "percent": 100.0},
        )
    absolute = replace(gate, max_ratio=None)
    return assess_threshold(absolute, _value(absolute, _variant(totals, TREATMENT), now))


def _value(gate: ThresholdGate, totals: WindowTotals | None, now: datetime) -> Measurement:
    metric = gate.metric
    if totals is None or totals.n == 0:
        return Measurement(metric=metric, value=None, n=0, at=now)
    if gate.quantile is None:
        return Measurement(metric=metric, value=totals.sum / totals.n, n=totals.n, at=now)
    if totals.kind is WindowKind.PROPORTION or totals.sketch is None:
        error = (
            f"{metric}'s windows carry no quantile sketch for a p{100 * gate.quantile:g} "
            "(rheostat.Client sends one with every tracked number; other senders add `sketch`)"
        )
        return Measurement.failed(metric, error, at=now)
    value = totals.quantile(gate.quantile)
    return Measurement(metric=metric, value=value, n=totals.n, at=now)


def _assignment(state: PlanState, totals: TotalsOf) -> GateVerdict | None:
    if state.exposure.holdback_percent <= 0:
        return None
    gate = next((g for g in state.plan.gates if isinstance(g, HoldbackGate)), None)
    if gate is None:
        return None
    found = totals(gate.metric)
    treated, held = _variant(found, TREATMENT), _variant(found, HOLDBACK)
    ratio = state.exposure.percent / state.exposure.holdback_percent
    return assess_assignment(
        0 if treated is None else treated.n,
        0 if held is None else held.n,
        expected_ratio=ratio,
    )
