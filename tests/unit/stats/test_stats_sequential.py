"""The guardrail's one-sided confidence sequence and the two-sided always-valid comparison."""

from __future__ import annotations

import math

import pytest
from stats_strategies import sample_stats_from

from rheostat.errors import ValidationError
from rheostat.stats import (
    Caveat,
    GuardSettings,
    GuardStatus,
    ProportionStats,
    SampleStats,
    Worse,
    assess_guard,
    sequential_guard,
)


def test_guard_fails_a_doubled_error_rate_and_reports_the_bound() -> None:
    # Given: control 1% errors, treatment 2%, 3,000 units each
    control, treatment = ProportionStats(3000, 30), ProportionStats(3000, 60)

    # When
    verdict = sequential_guard(control, treatment, worse="higher")

    # Then
    assert verdict.status is GuardStatus.FAIL
    assert verdict.reason is None
    assert verdict.estimate == pytest.approx(0.01)
    assert verdict.ci_lower is not None
    assert 0 < verdict.ci_lower < verdict.estimate
    assert verdict.ci_upper == math.inf


def test_guard_on_a_lower_is_worse_metric_uses_an_upper_bound() -> None:
    # Given: conversion fell from 10% to 8%
    control, treatment = ProportionStats(5000, 500), ProportionStats(5000, 400)

    # When
    higher = sequential_guard(control, treatment, worse="higher")
    lower = sequential_guard(control, treatment, worse=Worse.LOWER)

    # Then
    assert higher.status is GuardStatus.PASS
    assert lower.status is GuardStatus.FAIL
    assert lower.ci_lower == -math.inf
    assert lower.ci_upper is not None
    assert lower.ci_upper < 0


def test_guard_tolerance_accepts_regressions_below_it() -> None:
    # Given
    control, treatment = ProportionStats(20000, 200), ProportionStats(20000, 300)

    # When
    strict = sequential_guard(control, treatment)
    tolerant = sequential_guard(control, treatment, tolerance=0.01)

    # Then
    assert strict.status is GuardStatus.FAIL
    assert tolerant.status is GuardStatus.PASS


def test_guard_on_the_lift_reports_a_relative_estimate() -> None:
    # Given: latency 200 -> 240 ms
    control, treatment = (
        sample_stats_from(2000, 200.0, 150.0),
        sample_stats_from(2000, 240.0, 150.0),
    )

    # When
    verdict = sequential_guard(control, treatment, relative=True, tolerance=0.05)

    # Then
    assert verdict.relative is True
    assert verdict.estimate == pytest.approx(0.2)
    assert verdict.status is GuardStatus.FAIL


def test_guard_on_the_lift_is_inconclusive_without_a_stable_baseline() -> None:
    # Given
    control, treatment = sample_stats_from(200, 0.0, 1.0), sample_stats_from(200, 1.0, 1.0)

    # When
    verdict = sequential_guard(control, treatment, relative=True)

    # Then
    assert verdict.status is GuardStatus.INCONCLUSIVE
    assert verdict.reason is Caveat.ZERO_CONTROL_MEAN
    assert verdict.estimate is None


@pytest.mark.parametrize(
    ("control", "treatment", "reason"),
    [
        (ProportionStats(99, 5), ProportionStats(3000, 60), Caveat.TOO_FEW_UNITS),
        (ProportionStats(300, 3), ProportionStats(300, 4), Caveat.TOO_FEW_EVENTS),
        (ProportionStats(300, 3), ProportionStats(300, -4), Caveat.INVALID_INPUT),
        (sample_stats_from(300, 5.0, 0.0), sample_stats_from(300, 6.0, 0.0), Caveat.ZERO_VARIANCE),
    ],
)
def test_guard_is_inconclusive_when_a_minimum_is_not_met(
    control: SampleStats | ProportionStats, treatment: SampleStats | ProportionStats, reason: Caveat
) -> None:
    # When
    verdict = sequential_guard(control, treatment)

    # Then
    assert verdict.status is GuardStatus.INCONCLUSIVE
    assert verdict.reason is reason
    assert (verdict.estimate, verdict.ci_lower, verdict.ci_upper) == (None, None, None)


def test_strict_mode_passes_only_once_non_inferiority_is_shown() -> None:
    # Given: no real change, small and large samples
    small = (ProportionStats(1000, 20), ProportionStats(1000, 20))
    large = (ProportionStats(200_000, 4000), ProportionStats(200_000, 4000))

    # When
    early = sequential_guard(*small, non_inferiority_margin=0.005)
    late = sequential_guard(*large, non_inferiority_margin=0.005)

    # Then
    assert early.status is GuardStatus.INCONCLUSIVE
    assert early.reason is Caveat.NON_INFERIORITY_NOT_SHOWN
    assert early.estimate == 0.0
    assert late.status is GuardStatus.PASS


@pytest.mark.parametrize(
    ("keyword", "value"),
    [
        ("alpha", 0.5),
        ("alpha", -0.1),
        ("n_star", 0),
        ("n_star", math.inf),
        ("tolerance", -0.001),
        ("tolerance", math.nan),
        ("min_n", 1),
        ("min_events", -1),
        ("worse", "sideways"),
        ("non_inferiority_margin", math.nan),
    ],
)
def test_guard_settings_refuse_bad_configuration(keyword: str, value: object) -> None:
    # When / Then
    with pytest.raises(ValidationError, match=keyword) as raised:
        GuardSettings(**{keyword: value})  # type: ignore[arg-type]
    assert raised.value.code == "validation_error"


def test_assess_guard_with_settings_equals_sequential_guard() -> None:
    # Given
    control, treatment = ProportionStats(4000, 80), ProportionStats(4000, 120)
    settings = GuardSettings(worse="higher", alpha=0.025, n_star=8000)  # type: ignore[arg-type]

    # When / Then
    assert settings.worse is Worse.HIGHER
    assert assess_guard(control, treatment, settings) == sequential_guard(
        control, treatment, alpha=0.025, n_star=8000
    )
