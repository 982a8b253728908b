"""Threshold gates on a quantile (``quantile: 0.95``): judged from the windows' merged
sketches, parsed and refused like every other gate field."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from rheostat.errors import InvalidDefinition
from rheostat.metrics import QuantileSketch, WindowKind, WindowTotals
from rheostat.rollout import GateMode, Plan, RampStage, ThresholdGate, Verdict
from rheostat.rollout.looks import observations, sketched_metrics
from rheostat.rollout.plans import plan_from_dict, plan_to_dict
from rheostat.rollout.state import Exposure, PlanState

NOW = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
P95 = ThresholdGate(
    name="p95", metric="latency_ms", quantile=0.95, max_ratio=2, mode=GateMode.PAUSE
)


def _plan(*gates: ThresholdGate) -> Plan:
    return Plan(
        name="search", flag="hybrid_search", environment="production",
        stages=(RampStage(percent=5),), gates=gates,
    )  # fmt: skip


def _latencies(values: list[float], *, sketch: bool = True) -> WindowTotals:
    return WindowTotals(
        kind=WindowKind.MEAN,
        n=len(values),
        sum=sum(values),
        sum_squares=sum(v * v for v in values),
        sketch=QuantileSketch.of(values) if sketch else None,
    )


def _look(gate: ThresholdGate, treatment: WindowTotals, rest: WindowTotals) -> Verdict:
    totals = {("on", WindowKind.MEAN): treatment, ("off", WindowKind.MEAN): rest}
    found = observations(
        PlanState(plan=_plan(gate)),
        NOW,
        totals_of=lambda metric: totals,
        judge=lambda gate: pytest.fail(f"{gate.name} is a built-in gate"),
    )
    (verdict,) = found.verdicts
    return verdict.verdict


BASELINE = [100.0] * 95 + [200.0] * 5  # p95 100 ms (rank 94 of 100), mean 105 ms


def test_a_slow_tail_fails_a_p95_gate_although_the_mean_barely_moves() -> None:
    tail = [100.0] * 90 + [900.0] * 10  # mean 180 (< 2 x 105), p95 900 (> 2 x 100)
    assert _look(P95, _latencies(tail), _latencies(BASELINE)) is Verdict.FAIL
    mean_gate = ThresholdGate(name="mean", metric="latency_ms", max_ratio=2)
    assert _look(mean_gate, _latencies(tail), _latencies(BASELINE)) is Verdict.PASS


def test_the_same_tail_passes_the_p95_gate() -> None:
    assert _look(P95, _latencies(BASELINE), _latencies(BASELINE)) is Verdict.PASS


def test_without_a_rest_the_holdback_is_the_baseline() -> None:
    # a 50 % stage with its 50 % holdback: nobody is left in `off`
    tail = [100.0] * 90 + [900.0] * 10
    totals = {
        ("on", WindowKind.MEAN): _latencies(tail),
        ("holdback", WindowKind.MEAN): _latencies(BASELINE),
    }
    found = observations(
        PlanState(plan=_plan(P95)),
        NOW,
        totals_of=lambda metric: totals,
        judge=lambda gate: pytest.fail("built in"),
    )
    (verdict,) = found.verdicts
    assert verdict.verdict is Verdict.FAIL
    assert verdict.evidence["baseline"] == pytest.approx(100.0, rel=0.01)


def test_windows_without_sketches_are_an_error_that_says_so_never_a_pass() -> None:
    bare = _latencies(BASELINE, sketch=False)
    found = observations(
        PlanState(plan=_plan(P95)),
        NOW,
        totals_of=lambda metric: {("on", WindowKind.MEAN): bare, ("off", WindowKind.MEAN): bare},
        judge=lambda gate: pytest.fail("built in"),
    )
    (verdict,) = found.verdicts
    assert verdict.verdict is Verdict.ERROR
    assert "carry no quantile sketch for a p95" in verdict.message


def test_only_quantile_gates_ask_for_sketches() -> None:
    plain = ThresholdGate(name="errors", metric="error_rate", max=0.01)
    assert sketched_metrics(_plan(P95, plain)) == {"latency_ms"}


def _document(gate: dict[str, object]) -> dict[str, object]:
    return {
        "plan": "search", "flag": "hybrid_search", "environment": "production",
        "stages": [{"ramp": {"percent": 5}}], "gates": [gate],
    }  # fmt: skip


def test_a_quantile_gate_reads_back_from_its_canonical_form() -> None:
    plan = plan_from_dict(
        _document({"metric": "latency_ms", "quantile": 0.95, "max": "2x_baseline"})
    )
    (gate,) = plan.gates
    assert isinstance(gate, ThresholdGate)
    assert (gate.quantile, gate.max_ratio, gate.measured) == (0.95, 2.0, "p95(latency_ms)")
    assert plan_from_dict(plan_to_dict(plan)) == plan


@pytest.mark.parametrize(
    ("gate", "field", "reason"),
    [
        ({"metric": "latency_ms", "quantile": 95, "max": 300}, "quantile", "between 0 and 1"),
        ({"metric": "latency_ms", "quantile": "p95", "max": 300}, "quantile", "number"),
        (
            {"metric": "latency", "quantile": 0.95, "max": 1, "source": "prometheus",
             "query": "histogram_quantile(0.95, x)"},
            "quantile",
            "computes its own quantiles",
        ),
    ],
)  # fmt: skip
def test_a_bad_quantile_is_refused_naming_the_field(
    gate: dict[str, object], field: str, reason: str
) -> None:
    with pytest.raises(InvalidDefinition, match=reason) as refused:
        plan_from_dict(_document(gate))
    assert refused.value.path == f"gates[0].{field}"


def test_once_everyone_has_the_change_a_ratio_is_not_judged_but_absolute_limits_are() -> None:
    tail = [100.0] * 90 + [900.0] * 10
    everyone = PlanState(plan=_plan(P95), exposure=Exposure(percent=100.0))
    bounded = replace(P95, name="bounded", max=500.0)
    found = observations(
        replace(everyone, plan=_plan(P95, bounded)),
        NOW,
        totals_of=lambda metric: {("on", WindowKind.MEAN): _latencies(tail)},
        judge=lambda gate: pytest.fail("built in"),
    )
    ratio_only, with_max = found.verdicts
    assert ratio_only.verdict is Verdict.PASS
    assert ratio_only.evidence["applicable"] is False
    assert with_max.verdict is Verdict.FAIL
    assert "breaks p95(latency_ms) <= 500" in with_max.message
