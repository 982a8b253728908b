"""Properties of the confidence sequences (STATS.md section 6)."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import optimize
from scipy import stats as distributions
from stats_strategies import balanced_proportion_arms, sample_arms

from rheostat.errors import ValidationError
from rheostat.stats import (
    Caveat,
    GuardSettings,
    GuardStatus,
    ProportionStats,
    SampleStats,
    Significance,
    Worse,
    always_valid_p_value,
    assess_guard,
    compare_sequential,
    one_sided_boundary,
    sequential_guard,
    two_sided_boundary,
)

alphas = st.sampled_from([0.001, 0.01, 0.025, 0.05, 0.1, 0.25, 0.49])
n_stars = st.floats(min_value=100.0, max_value=1e6)
totals = st.floats(min_value=2.0, max_value=1e8)
mean_or_proportion_arms = st.one_of(
    st.tuples(sample_arms(), sample_arms()),
    st.tuples(balanced_proportion_arms(), balanced_proportion_arms()),
)


def _one_sided_scale(n_star: float, alpha: float) -> float:
    log_level = math.log(2 * alpha)
    return n_star / (-2 * log_level + math.log(1 - 2 * log_level))


@settings(max_examples=200)
@given(n_total=totals, alpha=alphas, n_star=n_stars)
def test_c1_is_always_above_the_fixed_one_sided_quantile(
    n_total: float, alpha: float, n_star: float
) -> None:
    # When / Then
    assert one_sided_boundary(n_total, alpha=alpha, n_star=n_star) > distributions.norm.isf(alpha)


@settings(max_examples=100)
@given(n_star=n_stars)
def test_c1_is_smallest_near_1_10_n_star_at_alpha_0_05(n_star: float) -> None:
    # When
    found = optimize.minimize_scalar(
        lambda n: one_sided_boundary(n, alpha=0.05, n_star=n_star),
        bounds=(0.5 * n_star, 2 * n_star),
        method="bounded",
        options={"xatol": 1e-6 * n_star},
    )

    # Then
    assert found.fun == pytest.approx(2.778, abs=5e-4)
    assert found.x / n_star == pytest.approx(1.10, abs=0.01)


@settings(max_examples=200)
@given(
    n_total=st.floats(min_value=4, max_value=1e7),
    factor=st.floats(min_value=1.0, max_value=100.0),
    alpha=alphas,
    n_star=n_stars,
)
def test_more_units_never_widen_the_sequence(
    n_total: float, factor: float, alpha: float, n_star: float
) -> None:
    # Given: se(N) proportional to 1 / sqrt(N) when means and variances stay fixed
    def half_width(n: float) -> float:
        return one_sided_boundary(n, alpha=alpha, n_star=n_star) / math.sqrt(n)

    # When / Then
    assert half_width(n_total * factor) <= half_width(n_total) * (1 + 1e-12)


@settings(max_examples=150, deadline=None)
@given(arms=mean_or_proportion_arms, worse=st.sampled_from(list(Worse)), relative=st.booleans())
def test_bound_never_exceeds_the_estimated_harm(
    arms: tuple[SampleStats, SampleStats] | tuple[ProportionStats, ProportionStats],
    worse: Worse,
    relative: bool,
) -> None:
    # When
    verdict = sequential_guard(*arms, worse=worse, relative=relative)

    # Then
    if verdict.estimate is not None:
        assert verdict.ci_lower is not None
        assert verdict.ci_upper is not None
        assert verdict.ci_lower <= verdict.estimate <= verdict.ci_upper


@settings(max_examples=150, deadline=None)
@given(arms=mean_or_proportion_arms, worse=st.sampled_from(list(Worse)))
def test_swapping_arms_and_flipping_worse_keeps_the_verdict(
    arms: tuple[SampleStats, SampleStats] | tuple[ProportionStats, ProportionStats], worse: Worse
) -> None:
    # Given
    control, treatment = arms
    flipped = Worse.LOWER if worse is Worse.HIGHER else Worse.HIGHER

    # When
    forward = sequential_guard(control, treatment, worse=worse)
    backward = sequential_guard(treatment, control, worse=flipped)  # type: ignore[arg-type]

    # Then
    assert backward.status is forward.status
    assert backward.reason is forward.reason


@settings(max_examples=150, deadline=None)
@given(
    control=sample_arms(),
    treatment=sample_arms(),
    scale=st.floats(min_value=1e-3, max_value=1e3),
    tolerance=st.floats(min_value=0.0, max_value=10.0),
    relative=st.booleans(),
)
def test_scaling_a_mean_metric_and_its_tolerance_keeps_the_verdict(
    control: SampleStats, treatment: SampleStats, scale: float, tolerance: float, relative: bool
) -> None:
    # Given
    def scaled(arm: SampleStats) -> SampleStats:
        return SampleStats(arm.n, arm.sum * scale, arm.sum_squares * scale * scale)

    tolerance_scaled = tolerance if relative else tolerance * scale
    original = sequential_guard(control, treatment, tolerance=tolerance, relative=relative)
    if original.estimate is not None and original.ci_lower is not None:
        bound_minus_tolerance = original.ci_lower - tolerance
        assume(abs(bound_minus_tolerance) > 1e-6 * (abs(original.ci_lower) + tolerance + 1e-9))

    # When
    rescaled = sequential_guard(
        scaled(control), scaled(treatment), tolerance=tolerance_scaled, relative=relative
    )

    # Then
    assert rescaled.status is original.status
    assert rescaled.reason is original.reason


@settings(max_examples=150, deadline=None)
@given(
    arms=mean_or_proportion_arms,
    tolerance=st.floats(min_value=0.0, max_value=1.0),
    extra=st.floats(min_value=0.0, max_value=1.0),
    alpha=alphas,
    stricter=st.floats(min_value=0.01, max_value=0.99),
)
def test_larger_tolerance_or_smaller_alpha_never_turns_pass_into_fail(
    arms: tuple[SampleStats, SampleStats] | tuple[ProportionStats, ProportionStats],
    tolerance: float,
    extra: float,
    alpha: float,
    stricter: float,
) -> None:
    # Given: a smaller alpha keeps the mixture scale r (n_star moves with it)
    settings = GuardSettings(alpha=alpha, tolerance=tolerance)
    smaller_alpha = alpha * stricter
    same_r_n_star = (
        settings.mixture_scale * settings.n_star / _one_sided_scale(settings.n_star, smaller_alpha)
    )
    baseline = assess_guard(*arms, settings)  # type: ignore[arg-type]
    assume(baseline.status is GuardStatus.PASS)

    # When
    tolerant = assess_guard(*arms, replace(settings, tolerance=tolerance + extra))  # type: ignore[arg-type]
    strict = assess_guard(*arms, replace(settings, alpha=smaller_alpha, n_star=same_r_n_star))  # type: ignore[arg-type]

    # Then
    assert tolerant.status is not GuardStatus.FAIL
    assert strict.status is not GuardStatus.FAIL


@settings(max_examples=200)
@given(
    statistic=st.floats(min_value=-40, max_value=40),
    n_total=totals,
    alpha=alphas,
    n_star=n_stars,
)
def test_always_valid_p_below_alpha_iff_z_beyond_c2(
    statistic: float, n_total: float, alpha: float, n_star: float
) -> None:
    # Given
    boundary = two_sided_boundary(n_total, alpha=alpha, n_star=n_star)
    assume(abs(abs(statistic) - boundary) > 1e-9 * boundary)

    # When
    p_value = always_valid_p_value(statistic, n_total, alpha=alpha, n_star=n_star)

    # Then
    assert 0.0 <= p_value <= 1.0
    assert (p_value <= alpha) == (abs(statistic) > boundary)


@settings(max_examples=150, deadline=None)
@given(arms=mean_or_proportion_arms, alpha=alphas)
def test_sequential_comparison_significant_iff_its_interval_excludes_zero(
    arms: tuple[SampleStats, SampleStats] | tuple[ProportionStats, ProportionStats], alpha: float
) -> None:
    # When
    result = compare_sequential(*arms, alpha=alpha)

    # Then
    assert result.ci_lower is not None
    assert result.ci_upper is not None
    assert result.p_value is not None
    assert result.estimate is not None
    assert result.ci_lower <= result.estimate <= result.ci_upper
    assume(abs(result.p_value - alpha) > 1e-9 * alpha)
    excludes_zero = result.ci_lower > 0 or result.ci_upper < 0
    assert (result.significance is Significance.SIGNIFICANT) == excludes_zero


def test_sequential_p_value_is_the_running_minimum() -> None:
    # Given
    control, treatment = ProportionStats(5000, 100), ProportionStats(5000, 104)

    # When
    fresh = compare_sequential(control, treatment)
    remembered = compare_sequential(control, treatment, previous_p_value=0.01)

    # Then
    assert fresh.p_value == 1.0
    assert remembered.p_value == 0.01
    assert remembered.significance is Significance.SIGNIFICANT
    assert fresh.dof is None


def test_sequential_comparison_is_inconclusive_with_a_reason() -> None:
    # When
    result = compare_sequential(ProportionStats(10, 1), ProportionStats(10, 2))

    # Then
    assert result.significance is Significance.INCONCLUSIVE
    assert result.reason is Caveat.TOO_FEW_UNITS


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: one_sided_boundary(0), "n_total"),
        (lambda: two_sided_boundary(100, n_star=-1), "n_star"),
        (lambda: always_valid_p_value(math.nan, 100), "statistic"),
        (lambda: always_valid_p_value(1.0, 100, alpha=0.6), "alpha"),
        (
            lambda: compare_sequential(
                ProportionStats(500, 50), ProportionStats(500, 60), previous_p_value=1.5
            ),
            "previous_p_value",
        ),
    ],
)
def test_sequential_helpers_refuse_bad_arguments(call: object, name: str) -> None:
    # When / Then
    with pytest.raises(ValidationError, match=name):
        call()  # type: ignore[operator]
