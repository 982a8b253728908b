"""``rheostat.simulate``: the real decide and gate judging on synthetic traffic.

Issue 10: "Use it in the tests: a healthy release completes; an injected 2x error regression at
the 5% stage rolls back before 25% with the evidence recorded", and "A/A simulations over 200
runs roll back at most alpha of the time".
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from rheostat.errors import ValidationError
from rheostat.metrics import WindowKind
from rheostat.rollout import GateMode, HoldbackGate, Plan, RampStage, ThresholdGate
from rheostat.simulate import (
    Scenario,
    ScenarioKind,
    metric_models,
    parse_metric_model,
    simulate,
    simulate_run,
    summarize,
)

MINUTE = timedelta(minutes=1)
CANARY = Plan(
    name="search",
    flag="hybrid_search",
    environment="production",
    stages=(
        RampStage(percent=5, bake=30 * MINUTE, holdback=True),
        RampStage(percent=25, bake=30 * MINUTE, holdback=True),
        RampStage(percent=50, bake=30 * MINUTE, holdback=True),
        RampStage(percent=100),
    ),
    gates=(HoldbackGate(name="errors", metric="http_errors", mode=GateMode.ROLLBACK),),
)


def test_a_healthy_release_completes_at_full_exposure() -> None:
    # When a slightly better change is rolled out ten times
    results = simulate(CANARY, Scenario(kind=ScenarioKind.HEALTHY), runs=10, seed=7)

    # Then every run completes at 100 %, and no gate fired
    assert {r.outcome for r in results} == {"completed"}
    assert {r.highest_percent for r in results} == {100}
    assert all(r.fired == () for r in results)


def test_a_2x_error_regression_at_the_5_percent_stage_rolls_back_before_25_percent() -> None:
    # When the change doubles the error rate from its first stage on
    scenario = Scenario(kind=ScenarioKind.ERRORS, at_stage=0, effect=2.0)
    results = simulate(CANARY, scenario, runs=20, seed=11)

    # Then every run rolls back in the 5 % stage, never having reached 25 %
    assert {r.outcome for r in results} == {"rolled_back"}
    assert {r.highest_percent for r in results} == {5}
    assert {r.decided_stage for r in results} == {1}
    # and the evidence of the deciding event names the gate, the estimate and the sizes
    evidence = results[0].evidence
    assert results[0].fired == ("errors",)
    assert "errors" in (results[0].message or "")
    assert evidence, results[0]


def test_aa_runs_roll_back_at_most_alpha_of_the_time() -> None:
    # When a change that does nothing is rolled out 200 times (alpha 0.05 on the one gate)
    results = simulate(CANARY, Scenario(kind=ScenarioKind.AA), runs=200, seed=2026)
    summary = summarize("aa", results)

    # Then at most 5 % of the runs roll back, and most complete
    assert summary.rollback_rate <= 0.05
    assert summary.outcomes.get("completed", 0) >= 180


def test_broken_assignment_pauses_the_plan_rather_than_rolling_back() -> None:
    # When the holdback arm loses 10 % of its users
    results = simulate(CANARY, Scenario(kind=ScenarioKind.SRM), runs=5, seed=3)

    # Then the plan pauses for a human: assignment is broken, not the change
    assert {r.outcome for r in results} == {"paused"}
    assert all(r.evidence.get("reason") == "srm" for r in results)


def test_a_creeping_regression_is_caught_later_than_a_sudden_one() -> None:
    sudden = summarize("errors", simulate(CANARY, Scenario(kind=ScenarioKind.ERRORS), runs=20))
    creeping = summarize("creep", simulate(CANARY, Scenario(kind=ScenarioKind.CREEP), runs=20))

    assert sudden.stop_rate == creeping.stop_rate == 1.0
    assert sudden.median_decided_look is not None
    assert creeping.median_decided_look is not None
    assert creeping.median_decided_look > sudden.median_decided_look


def test_a_latency_regression_is_caught_by_a_latency_gate_only() -> None:
    # Given a plan that guards both errors and latency (latency as a mean)
    plan = replace(
        CANARY,
        gates=(*CANARY.gates, HoldbackGate(name="latency", metric="latency_ms")),
    )
    assert metric_models(plan)["latency_ms"].kind is WindowKind.MEAN

    # When latency gets 1.5x worse from the second stage on
    results = simulate(plan, Scenario(kind=ScenarioKind.LATENCY, at_stage=1), runs=10, seed=5)

    # Then the latency gate rolls the plan back in the second stage
    assert {r.outcome for r in results} == {"rolled_back"}
    assert {r.decided_stage for r in results} == {2}
    assert all("latency" in r.fired for r in results)


def test_an_observe_mode_gate_fires_but_never_acts() -> None:
    # Given an absolute threshold the healthy error rate (1 %) always breaks, in observe mode
    watch = ThresholdGate(name="watch", metric="http_errors", max=0.001, mode=GateMode.OBSERVE)
    plan = replace(CANARY, gates=(*CANARY.gates, watch))

    results = simulate(plan, Scenario(kind=ScenarioKind.HEALTHY), runs=3)

    # Then the plan completes, and the simulation says the gate would have fired
    assert {r.outcome for r in results} == {"completed"}
    assert summarize("healthy", results).fired == {"watch": 1.0}


def test_a_run_is_reproducible_from_its_seed() -> None:
    scenario = Scenario(kind=ScenarioKind.AA)
    assert simulate_run(CANARY, scenario, seed=42) == simulate_run(CANARY, scenario, seed=42)
    many = simulate(CANARY, scenario, runs=3, seed=40)
    assert many[2] == simulate_run(CANARY, scenario, seed=42, run=3)


def test_metric_models_are_parsed_with_clear_errors() -> None:
    model = parse_metric_model("checkout_ms=mean:350:120")
    assert (model.kind, model.mean, model.sd, model.worse) == (WindowKind.MEAN, 350, 120, "higher")
    assert parse_metric_model("conversion=proportion:0.1:lower").worse == "lower"
    for bad in ("nothing", "x=proportion:2", "x=mean:10", "x=mean:a:b", "x=median:1"):
        with pytest.raises(ValidationError, match="metric model"):
            parse_metric_model(bad)
