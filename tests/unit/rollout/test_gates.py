"""Gates: each measurement maps to the right verdict, with the evidence a human needs."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rheostat.errors import ValidationError
from rheostat.rollout import (
    ArmMeasurement,
    ArmStats,
    CallableGate,
    CheckGate,
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
    holdback_settings,
    holdback_settings_by_gate,
)
from rheostat.rollout.holdback import ASSIGNMENT_GATE
from rheostat.stats import ProportionStats, SampleStats, Worse

AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
P95 = ThresholdGate(name="p95", metric="p95_ms", max_ratio=2.0)
ERRORS = ThresholdGate(name="errors", metric="error_rate", max=0.01)
GUARD = HoldbackGate(name="guard", metric="http_errors", tolerance=0.001)


def measured(value: float | None, n: int = 1000, *, metric: str = "p95_ms") -> Measurement:
    return Measurement(metric=metric, value=value, n=n, at=AT)


def arm(stats: ArmStats, *, units: int | None = None) -> ArmMeasurement:
    return ArmMeasurement(
        metric="http_errors", stats=stats, units=stats.n if units is None else units, at=AT
    )


# Threshold gates -------------------------------------------------------------------------------


def test_threshold_within_a_ratio_of_the_baseline_passes_with_the_rule_in_evidence() -> None:
    # Given: p95 must stay under twice its baseline of 210 ms
    baseline = measured(210.0, 5000)

    # When
    verdict = assess_threshold(P95, measured(300.0), baseline=baseline)

    # Then
    assert verdict.verdict is Verdict.PASS
    assert verdict.gate == "p95"
    assert verdict.evidence["value"] == 300.0
    assert verdict.evidence["n"] == 1000
    assert verdict.evidence["limit"] == 420.0
    assert verdict.evidence["baseline"] == 210.0
    assert verdict.evidence["rule"] == "p95_ms <= 2x baseline 210 = 420"


def test_threshold_beyond_a_ratio_of_the_baseline_fails() -> None:
    # When
    verdict = assess_threshold(P95, measured(421.0), baseline=measured(210.0))

    # Then
    assert verdict.verdict is Verdict.FAIL
    assert "421" in verdict.message
    assert "p95_ms <= 2x baseline 210 = 420" in verdict.message


@pytest.mark.parametrize(
    ("baseline", "why"),
    [
        (None, "no baseline"),
        (measured(None, 0), "no data"),
        (Measurement.failed("p95_ms", "timeout", at=AT), "timeout"),
        (measured(0.0), "means nothing"),
    ],
)
def test_a_ratio_without_a_usable_baseline_is_inconclusive_and_says_why(
    baseline: Measurement | None, why: str
) -> None:
    # When
    verdict = assess_threshold(P95, measured(300.0), baseline=baseline)

    # Then
    assert verdict.verdict is Verdict.INCONCLUSIVE
    assert why in verdict.message
    assert verdict.evidence["limit"] is None


def test_a_broken_absolute_limit_fails_even_when_the_ratio_cannot_be_judged() -> None:
    # Given
    gate = ThresholdGate(name="p95", metric="p95_ms", max=500.0, max_ratio=2.0)

    # When
    verdict = assess_threshold(gate, measured(600.0), baseline=None)

    # Then
    assert verdict.verdict is Verdict.FAIL
    assert verdict.evidence["limit"] == 500.0
    assert [rule["holds"] for rule in verdict.evidence["rules"]] == [False, None]


@pytest.mark.parametrize(
    ("gate", "value", "expected"),
    [
        (ERRORS, 0.009, Verdict.PASS),
        (ERRORS, 0.01, Verdict.PASS),
        (ERRORS, 0.011, Verdict.FAIL),
        (ThresholdGate(name="ok", metric="success_rate", min=0.99), 0.995, Verdict.PASS),
        (ThresholdGate(name="ok", metric="success_rate", min=0.99), 0.98, Verdict.FAIL),
        (ThresholdGate(name="none", metric="x"), 1.0, Verdict.INCONCLUSIVE),
    ],
)
def test_absolute_limits(gate: ThresholdGate, value: float, expected: Verdict) -> None:
    # When
    verdict = assess_threshold(gate, measured(value, metric=gate.metric))

    # Then
    assert verdict.verdict is expected


def test_a_failed_source_is_an_error_with_the_error_in_evidence() -> None:
    # Given
    failed = Measurement.failed("error_rate", "prometheus: connection refused", at=AT)

    # When
    verdict = assess_threshold(ERRORS, failed)

    # Then
    assert verdict.verdict is Verdict.ERROR
    assert verdict.evidence["error"] == "prometheus: connection refused"
    assert "connection refused" in verdict.message


def test_an_error_is_an_error_even_with_a_value_that_would_pass() -> None:
    # Given: a source that returned a number and an error
    both = Measurement(metric="error_rate", value=0.0, n=1000, at=AT, error="partial data")

    # When / Then
    assert assess_threshold(ERRORS, both).verdict is Verdict.ERROR


@pytest.mark.parametrize(("value", "n"), [(None, 1000), (0.0, 0), (None, 0)])
def test_no_value_or_no_units_is_no_data(value: float | None, n: int) -> None:
    # When
    verdict = assess_threshold(ERRORS, measured(value, n, metric="error_rate"))

    # Then
    assert verdict.verdict is Verdict.NO_DATA


@pytest.mark.parametrize(("value", "n"), [(math.nan, 10), (math.inf, 10), (0.0, -1)])
def test_a_nonsense_measurement_is_an_error(value: float, n: int) -> None:
    # When / Then
    assert assess_threshold(ERRORS, measured(value, n)).verdict is Verdict.ERROR


finite_or_none = st.none() | st.floats(allow_nan=False, allow_infinity=False)


@given(
    value=finite_or_none,
    n=st.integers(min_value=-5, max_value=10**9),
    error=st.none() | st.text(max_size=20),
    limits=st.tuples(finite_or_none, finite_or_none, finite_or_none),
    baseline_value=finite_or_none,
    baseline_error=st.none() | st.text(max_size=20),
)
def test_assess_threshold_never_raises_and_never_passes_an_error(
    value: float | None,
    n: int,
    error: str | None,
    limits: tuple[float | None, float | None, float | None],
    baseline_value: float | None,
    baseline_error: str | None,
) -> None:
    # Given
    gate = ThresholdGate(name="g", metric="m", max=limits[0], min=limits[1], max_ratio=limits[2])
    measurement = Measurement(metric="m", value=value, n=n, at=AT, error=error)
    baseline = Measurement(metric="m", value=baseline_value, n=100, at=AT, error=baseline_error)

    # When
    verdict = assess_threshold(gate, measurement, baseline=baseline)

    # Then
    if error is not None:
        assert verdict.verdict is Verdict.ERROR
    if not measurement.has_data:
        assert verdict.verdict is not Verdict.PASS


# Holdback gates --------------------------------------------------------------------------------


def test_holdback_settings_split_the_plans_alpha_over_its_holdback_gates() -> None:
    # Given: two holdback gates and a threshold gate
    latency = HoldbackGate(name="latency", metric="latency_ms", worse="higher")
    gates = (GUARD, latency, ERRORS)

    # When
    settings = holdback_settings_by_gate(gates, n_star=12_000)

    # Then
    assert set(settings) == {"guard", "latency"}
    assert settings["guard"].alpha == pytest.approx(0.025)
    assert settings["guard"].n_star == 12_000
    assert settings["guard"].tolerance == 0.001
    assert settings["guard"].worse is Worse.HIGHER


@pytest.mark.parametrize("gates_in_plan", [0, -1])
def test_holdback_settings_refuse_a_plan_without_holdback_gates(gates_in_plan: int) -> None:
    with pytest.raises(ValidationError, match="gates_in_plan"):
        holdback_settings(GUARD, gates_in_plan=gates_in_plan)


def test_holdback_settings_refuse_an_unknown_direction() -> None:
    # Given
    gate = HoldbackGate(name="g", metric="m", worse="sideways")

    # When / Then
    with pytest.raises(ValidationError, match="worse"):
        holdback_settings(gate, gates_in_plan=1)


def test_a_doubled_error_rate_at_the_5_percent_stage_fails_with_its_evidence() -> None:
    # Given: 3,000 units per arm (the 5% stage), 2% errors in the holdback, 4% in the treatment
    settings = holdback_settings(GUARD, gates_in_plan=2, n_star=12_000)
    treatment, holdback = arm(ProportionStats(3000, 120)), arm(ProportionStats(3000, 60))

    # When
    verdict = assess_holdback(GUARD, treatment, holdback, settings=settings)

    # Then
    assert verdict.verdict is Verdict.FAIL
    evidence = verdict.evidence
    assert evidence["rule"] == (
        "http_errors: treatment - holdback <= 0.001, alpha 0.025, always-valid"
    )
    assert evidence["estimate"] == pytest.approx(0.02)
    assert 0.001 < evidence["ci_lower"] < 0.02
    assert evidence["ci_upper"] is None  # the open end, JSON-ready
    assert evidence["bound"] == evidence["ci_lower"]
    assert evidence["boundary"] > 2.7
    assert evidence["se"] > 0
    assert (evidence["treatment_n"], evidence["holdback_n"]) == (3000, 3000)
    assert evidence["treatment_mean"] == pytest.approx(0.04)
    assert evidence["holdback_mean"] == pytest.approx(0.02)
    assert "worse by at least" in verdict.message


@pytest.mark.parametrize("units", [200, 3000, 30_000])
def test_an_aa_pair_of_equal_rates_never_fails(units: int) -> None:
    # Given: both arms at 2% errors
    settings = holdback_settings(GUARD, gates_in_plan=1)
    rate = ProportionStats(units, units // 50)

    # When
    verdict = assess_holdback(GUARD, arm(rate), arm(rate), settings=settings)

    # Then
    assert verdict.verdict in {Verdict.PASS, Verdict.INCONCLUSIVE}


def test_a_fall_in_a_lower_is_worse_mean_fails_with_an_upper_bound() -> None:
    # Given: order value fell from 50 to 45, sd 10, 2,000 units per arm
    gate = HoldbackGate(name="basket", metric="order_value", worse="lower")
    settings = holdback_settings(gate, gates_in_plan=1)
    holdback = SampleStats(2000, 2000 * 50.0, 2000 * (50.0**2 + 100.0))
    treatment = SampleStats(2000, 2000 * 45.0, 2000 * (45.0**2 + 100.0))

    # When
    verdict = assess_holdback(gate, arm(treatment), arm(holdback), settings=settings)

    # Then
    assert verdict.verdict is Verdict.FAIL
    assert verdict.evidence["ci_lower"] is None
    assert verdict.evidence["bound"] == verdict.evidence["ci_upper"] < 0
    assert "holdback - treatment <= 0" in verdict.evidence["rule"]


def test_too_few_units_in_the_holdback_is_inconclusive_with_the_reason() -> None:
    # Given
    settings = holdback_settings(GUARD, gates_in_plan=1)

    # When
    verdict = assess_holdback(
        GUARD, arm(ProportionStats(50, 5)), arm(ProportionStats(50, 1)), settings=settings
    )

    # Then
    assert verdict.verdict is Verdict.INCONCLUSIVE
    assert verdict.evidence["reason"] == "too_few_units"
    assert verdict.evidence["estimate"] is None


@pytest.mark.parametrize(
    ("treatment", "holdback"),
    [
        (ProportionStats(0, 0), ProportionStats(500, 5)),
        (ProportionStats(500, 5), ProportionStats(0, 0)),
    ],
)
def test_an_arm_without_units_is_no_data(
    treatment: ProportionStats, holdback: ProportionStats
) -> None:
    # When
    verdict = assess_holdback(
        GUARD, arm(treatment), arm(holdback), settings=holdback_settings(GUARD, gates_in_plan=1)
    )

    # Then
    assert verdict.verdict is Verdict.NO_DATA


def test_a_failed_arm_source_is_an_error_never_a_pass() -> None:
    # Given: the treatment's query timed out; the holdback's answered
    failed = ArmMeasurement.failed("http_errors", "timeout after 5s", at=AT)

    # When
    verdict = assess_holdback(
        GUARD,
        failed,
        arm(ProportionStats(3000, 60)),
        settings=holdback_settings(GUARD, gates_in_plan=1),
    )

    # Then
    assert verdict.verdict is Verdict.ERROR
    assert verdict.evidence["error"] == {"treatment": "timeout after 5s"}


def test_arms_of_different_kinds_are_an_error_not_an_exception() -> None:
    # When
    verdict = assess_holdback(
        GUARD,
        arm(SampleStats(500, 500.0, 1000.0)),
        arm(ProportionStats(500, 5)),
        settings=holdback_settings(GUARD, gates_in_plan=1),
    )

    # Then
    assert verdict.verdict is Verdict.ERROR


# Assignment ------------------------------------------------------------------------------------


def test_a_55_45_split_of_20k_units_is_a_sample_ratio_mismatch() -> None:
    # When
    verdict = assess_assignment(11_000, 9_000)

    # Then
    assert verdict.verdict is Verdict.FAIL
    assert verdict.gate == ASSIGNMENT_GATE
    assert verdict.evidence["p_value"] < 0.001
    assert verdict.evidence["reason"] == "srm"
    assert "assignment is broken" in verdict.message


def test_a_split_within_chance_passes() -> None:
    # Given: 10,250 / 9,850 of an intended 50/50 (p = 0.0048, above 0.001)
    verdict = assess_assignment(10_250, 9_850)

    # Then
    assert verdict.verdict is Verdict.PASS
    assert verdict.evidence["chi2"] == pytest.approx(7.96, abs=0.01)


def test_the_expected_ratio_is_honoured() -> None:
    # Given: twice as many treatment units as holdback units, as intended
    assert assess_assignment(20_000, 10_000, expected_ratio=2.0).verdict is Verdict.PASS
    assert assess_assignment(20_000, 10_000).verdict is Verdict.FAIL


@pytest.mark.parametrize(
    ("treatment", "holdback", "expected"),
    [(0, 0, Verdict.NO_DATA), (3, 2, Verdict.INCONCLUSIVE), (-1, 10, Verdict.ERROR)],
)
def test_too_few_or_nonsense_units(treatment: int, holdback: int, expected: Verdict) -> None:
    assert assess_assignment(treatment, holdback).verdict is expected


@pytest.mark.parametrize("ratio", [0.0, -1.0, math.inf, math.nan])
def test_a_bad_expected_ratio_is_refused(ratio: float) -> None:
    with pytest.raises(ValidationError, match="expected_ratio"):
        assess_assignment(100, 100, expected_ratio=ratio)


# Check suites, callables, HTTP probes ----------------------------------------------------------

HTTP = HttpGate(name="health", url="https://api.example.com/health", timeout=timedelta(seconds=5))


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        (Outcome(ok=True, at=AT), Verdict.PASS),
        (Outcome(ok=False, at=AT, detail={"status": 503}), Verdict.FAIL),
        (Outcome(ok=None, at=AT), Verdict.NO_DATA),
        (Outcome(ok=True, at=AT, error="connection refused"), Verdict.ERROR),
        (Outcome(ok=None, at=AT, error="timeout"), Verdict.ERROR),
    ],
)
def test_outcomes_map_to_verdicts_and_errors_never_pass(
    outcome: Outcome, expected: Verdict
) -> None:
    # When
    verdict = assess_outcome(HTTP, outcome)

    # Then
    assert verdict.verdict is expected
    assert verdict.evidence["rule"] == "GET https://api.example.com/health answers 200 within 5s"
    assert verdict.evidence["detail"] == dict(outcome.detail)
    assert verdict.evidence["error"] == outcome.error


@pytest.mark.parametrize(
    ("gate", "rule"),
    [
        (CheckGate(name="preflight", checks=("db", "cache")), "checks db, cache pass"),
        (
            CallableGate(name="validate", target="app.checks:validate"),
            "app.checks:validate(percent) returns true within 10s",
        ),
    ],
)
def test_each_outcome_gate_kind_states_its_rule(gate: CheckGate | CallableGate, rule: str) -> None:
    # When
    verdict = assess_outcome(gate, Outcome(ok=False, at=AT))

    # Then
    assert verdict.verdict is Verdict.FAIL
    assert verdict.gate == gate.name
    assert verdict.evidence["rule"] == rule
