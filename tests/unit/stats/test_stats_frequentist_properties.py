"""Properties of the fixed-horizon comparisons (STATS.md section 6)."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from stats_strategies import (
    proportion_arms,
    sample_arms,
    sample_stats_from,
)

from rheostat.stats import (
    Comparison,
    ProportionStats,
    SampleStats,
    Significance,
    compare_means,
    compare_proportions,
)

alternatives = st.sampled_from(["two-sided", "greater", "less"])
alphas = st.sampled_from([0.001, 0.01, 0.05, 0.1, 0.2])


def _excludes_zero(result: Comparison) -> bool:
    assert result.ci_lower is not None
    assert result.ci_upper is not None
    return result.ci_lower > 0 or result.ci_upper < 0


@settings(max_examples=150, deadline=None)
@given(
    control=sample_arms(),
    treatment=sample_arms(),
    alternative=alternatives,
    alpha=alphas,
    relative=st.booleans(),
)
def test_interval_contains_the_estimate_and_p_below_alpha_iff_it_excludes_zero(
    control: SampleStats, treatment: SampleStats, alternative: str, alpha: float, relative: bool
) -> None:
    # When
    result = compare_means(
        control, treatment, alternative=alternative, alpha=alpha, relative=relative
    )
    absolute = compare_means(control, treatment, alternative=alternative, alpha=alpha)

    # Then
    assert result.ci_lower is not None
    assert result.ci_upper is not None
    assert result.ci_lower <= (result.estimate or 0.0) <= result.ci_upper
    assert absolute.p_value is not None
    assume(abs(absolute.p_value - alpha) > 1e-9)
    assert (absolute.p_value < alpha) == _excludes_zero(absolute)
    assert (result.significance is Significance.SIGNIFICANT) == (absolute.p_value < alpha)


@settings(max_examples=100, deadline=None)
@given(control=proportion_arms(min_n=200), treatment=proportion_arms(min_n=200))
def test_swapping_proportion_arms_negates_the_difference_and_keeps_p(
    control: ProportionStats, treatment: ProportionStats
) -> None:
    # When
    forward, backward = (
        compare_proportions(control, treatment),
        compare_proportions(treatment, control),
    )

    # Then
    assert forward.reason == backward.reason
    if forward.estimate is not None:
        assert backward.estimate == pytest.approx(-forward.estimate)
        assert backward.p_value == pytest.approx(forward.p_value, rel=1e-12)


@settings(max_examples=100, deadline=None)
@given(control=sample_arms(), treatment=sample_arms())
def test_swapping_mean_arms_negates_the_difference_and_keeps_p(
    control: SampleStats, treatment: SampleStats
) -> None:
    # When
    forward, backward = compare_means(control, treatment), compare_means(treatment, control)

    # Then
    assert forward.estimate is not None
    assert backward.estimate == pytest.approx(-forward.estimate)
    assert backward.p_value == pytest.approx(forward.p_value, rel=1e-9)


@settings(max_examples=100, deadline=None)
@given(
    control=sample_arms(),
    treatment=sample_arms(),
    scale=st.floats(min_value=1e-3, max_value=1e3),
)
def test_scaling_a_mean_metric_keeps_statistic_p_and_lift(
    control: SampleStats, treatment: SampleStats, scale: float
) -> None:
    # Given
    def scaled(arm: SampleStats) -> SampleStats:
        return SampleStats(arm.n, arm.sum * scale, arm.sum_squares * scale * scale)

    # When
    original = compare_means(control, treatment, relative=True)
    rescaled = compare_means(scaled(control), scaled(treatment), relative=True)

    # Then
    assert rescaled.reason == original.reason
    assert rescaled.statistic == pytest.approx(original.statistic, rel=1e-6, abs=1e-9)
    assert rescaled.p_value == pytest.approx(original.p_value, rel=1e-6, abs=1e-12)
    if original.relative:
        assert rescaled.estimate == pytest.approx(original.estimate, rel=1e-6, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(
    n=st.tuples(st.integers(100, 3_000), st.integers(100, 3_000)),
    means=st.tuples(st.floats(-100, 100), st.floats(-100, 100)),
    sds=st.tuples(st.floats(0.1, 100), st.floats(0.1, 100)),
    factor=st.integers(min_value=1, max_value=50),
)
def test_more_units_with_the_same_moments_never_widen_the_interval(
    n: tuple[int, int], means: tuple[float, float], sds: tuple[float, float], factor: int
) -> None:
    # Given
    def arms(k: int) -> tuple[SampleStats, SampleStats]:
        return (
            sample_stats_from(n[0] * k, means[0], sds[0]),
            sample_stats_from(n[1] * k, means[1], sds[1]),
        )

    # When
    small, large = compare_means(*arms(1)), compare_means(*arms(factor))

    # Then
    assert small.ci_lower is not None
    assert small.ci_upper is not None
    assert large.ci_lower is not None
    assert large.ci_upper is not None
    width_small, width_large = small.ci_upper - small.ci_lower, large.ci_upper - large.ci_lower
    assert width_large <= width_small * (1 + 1e-9)


@settings(max_examples=100, deadline=None)
@given(
    values=st.lists(
        st.tuples(st.floats(-50, 50), st.booleans()).map(lambda pair: pair[0] if pair[1] else 0.0),
        min_size=8,
        max_size=200,
    ),
    split=st.floats(0.2, 0.8),
)
def test_analysing_merged_halves_equals_analysing_the_whole(
    values: list[float], split: float
) -> None:
    # Given
    middle = len(values) // 2
    control_values, treatment_values = values[:middle], values[middle:]
    cut = int(len(control_values) * split)
    whole = compare_means(SampleStats.of(control_values), SampleStats.of(treatment_values), min_n=2)

    # When
    merged = compare_means(
        SampleStats.of(control_values[cut:]).merge(SampleStats.of(control_values[:cut])),
        SampleStats.of(treatment_values[:cut]).merge(SampleStats.of(treatment_values[cut:])),
        min_n=2,
    )

    # Then
    assert merged.reason == whole.reason
    if whole.estimate is not None:
        assert merged.estimate == pytest.approx(whole.estimate, rel=1e-9, abs=1e-9)
        assert merged.p_value == pytest.approx(whole.p_value, rel=1e-6, abs=1e-12)
