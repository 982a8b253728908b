"""Fixed-horizon A/B comparisons against scipy and statsmodels, and their properties."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as distributions
from stats_strategies import (
    balanced_proportion_arms,
    sample_arms,
    sample_stats_from,
)
from statsmodels.stats import proportion as sm_proportion

from rheostat.errors import ValidationError
from rheostat.stats import (
    Caveat,
    ProportionStats,
    SampleStats,
    Significance,
    compare_means,
    compare_proportions,
)

alternatives = st.sampled_from(["two-sided", "greater", "less"])
alphas = st.sampled_from([0.001, 0.01, 0.05, 0.1, 0.2])
STATSMODELS_ALTERNATIVE = {"two-sided": "two-sided", "greater": "larger", "less": "smaller"}


def _close(actual: float | None, expected: float) -> bool:
    assert actual is not None
    return math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-300)


def _welch_dof(control: SampleStats, treatment: SampleStats) -> float:
    v_c = (control.variance or 0.0) / control.n
    v_t = (treatment.variance or 0.0) / treatment.n
    return (v_c + v_t) ** 2 / (v_c**2 / (control.n - 1) + v_t**2 / (treatment.n - 1))


@settings(max_examples=200, deadline=None)
@given(control=sample_arms(), treatment=sample_arms(), alternative=alternatives, alpha=alphas)
def test_compare_means_matches_scipy_welch(
    control: SampleStats, treatment: SampleStats, alternative: str, alpha: float
) -> None:
    # Given
    assert control.mean is not None
    assert control.variance is not None
    assert treatment.mean is not None
    assert treatment.variance is not None
    expected = distributions.ttest_ind_from_stats(
        treatment.mean,
        math.sqrt(treatment.variance),
        treatment.n,
        control.mean,
        math.sqrt(control.variance),
        control.n,
        equal_var=False,
        alternative=alternative,
    )
    dof = _welch_dof(control, treatment)

    # When
    result = compare_means(control, treatment, alternative=alternative, alpha=alpha)

    # Then
    assert _close(result.statistic, float(expected.statistic))
    assert _close(result.p_value, float(expected.pvalue))
    assert _close(result.dof, dof)
    assert result.estimate is not None
    assert result.se is not None
    quantile = distributions.t.isf(alpha / 2 if alternative == "two-sided" else alpha, dof)
    if alternative != "less":
        assert _close(result.ci_lower, result.estimate - quantile * result.se)
    if alternative != "greater":
        assert _close(result.ci_upper, result.estimate + quantile * result.se)


@settings(max_examples=200, deadline=None)
@given(
    control=balanced_proportion_arms(),
    treatment=balanced_proportion_arms(),
    alternative=alternatives,
    alpha=alphas,
)
def test_compare_proportions_matches_statsmodels_wald(
    control: ProportionStats, treatment: ProportionStats, alternative: str, alpha: float
) -> None:
    # Given
    counts = (treatment.successes, treatment.n, control.successes, control.n)
    test = sm_proportion.test_proportions_2indep(
        *counts, method="wald", compare="diff", alternative=STATSMODELS_ALTERNATIVE[alternative]
    )
    low, high = sm_proportion.confint_proportions_2indep(
        *counts, method="wald", compare="diff", alpha=alpha
    )
    _, pooled = sm_proportion.proportions_ztest(
        [treatment.successes, control.successes],
        [treatment.n, control.n],
        alternative=STATSMODELS_ALTERNATIVE[alternative],
    )

    # When
    result = compare_proportions(control, treatment, alternative=alternative, alpha=alpha)
    two_sided = compare_proportions(control, treatment, alpha=alpha)

    # Then
    assert _close(result.statistic, float(test.statistic))
    assert _close(result.p_value, float(test.pvalue))
    assert _close(result.pooled_p_value, float(pooled))
    assert _close(two_sided.ci_lower, float(low))
    assert _close(two_sided.ci_upper, float(high))
    assert result.dof is None


def test_one_zero_variance_arm_uses_the_other_arms_degrees_of_freedom() -> None:
    # Given
    control, treatment = sample_stats_from(500, 10.0, 0.0), sample_stats_from(300, 11.0, 4.0)

    # When
    result = compare_means(control, treatment)

    # Then
    assert result.dof == pytest.approx(299)
    assert result.significance is Significance.SIGNIFICANT


def test_one_sided_intervals_have_an_infinite_open_end() -> None:
    # Given
    control, treatment = sample_stats_from(400, 10.0, 3.0), sample_stats_from(400, 10.5, 3.0)

    # When
    greater = compare_means(control, treatment, alternative="greater")
    less = compare_means(control, treatment, alternative="less")

    # Then
    assert greater.ci_upper == math.inf
    assert greater.ci_lower is not None
    assert less.ci_lower == -math.inf
    assert less.ci_upper is not None
    assert greater.p_value is not None
    assert less.p_value is not None
    assert greater.p_value + less.p_value == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("control", "treatment", "reason"),
    [
        (sample_stats_from(99, 1.0, 1.0), sample_stats_from(500, 1.0, 1.0), Caveat.TOO_FEW_UNITS),
        (sample_stats_from(200, 1.0, 0.0), sample_stats_from(300, 2.0, 0.0), Caveat.ZERO_VARIANCE),
        (SampleStats(200, 1.0, -1.0), sample_stats_from(300, 2.0, 1.0), Caveat.INVALID_INPUT),
        (SampleStats(0, 0.0, 0.0), SampleStats(1, 2.0, 4.0), Caveat.TOO_FEW_UNITS),
    ],
)
def test_compare_means_is_inconclusive_with_a_reason(
    control: SampleStats, treatment: SampleStats, reason: Caveat
) -> None:
    # When
    result = compare_means(control, treatment)

    # Then
    assert result.significance is Significance.INCONCLUSIVE
    assert result.reason is reason
    assert (result.estimate, result.ci_lower, result.ci_upper, result.p_value) == (None,) * 4


def test_a_statistic_beyond_float_range_is_invalid_input() -> None:
    # Given: a difference of 2**500 (3e150) over a standard error of 7e-161
    control, treatment = SampleStats(2, 2.0**501, 2.0**1001), SampleStats(2, 0.0, 1e-320)

    # When
    result = compare_means(control, treatment, min_n=2)

    # Then
    assert result.significance is Significance.INCONCLUSIVE
    assert result.reason is Caveat.INVALID_INPUT


@pytest.mark.parametrize(
    ("control", "treatment", "min_events", "reason"),
    [
        (ProportionStats(1000, 4), ProportionStats(1000, 5), 10, Caveat.TOO_FEW_EVENTS),
        (ProportionStats(1000, 996), ProportionStats(1000, 995), 10, Caveat.TOO_FEW_EVENTS),
        (ProportionStats(50, 10), ProportionStats(1000, 100), 10, Caveat.TOO_FEW_UNITS),
        (ProportionStats(1000, 1000), ProportionStats(900, 900), 0, Caveat.ZERO_VARIANCE),
        (ProportionStats(1000, 1001), ProportionStats(900, 9), 10, Caveat.INVALID_INPUT),
    ],
)
def test_compare_proportions_is_inconclusive_with_a_reason(
    control: ProportionStats, treatment: ProportionStats, min_events: int, reason: Caveat
) -> None:
    # When
    result = compare_proportions(control, treatment, min_events=min_events)

    # Then
    assert result.significance is Significance.INCONCLUSIVE
    assert result.reason is reason
    assert result.pooled_p_value is None


def test_an_arm_at_zero_percent_takes_its_se_from_the_other_arm() -> None:
    # Given
    control, treatment = ProportionStats(2000, 0), ProportionStats(2000, 40)

    # When
    result = compare_proportions(control, treatment)

    # Then
    assert result.se == pytest.approx(math.sqrt(0.02 * 0.98 / 2000))
    assert result.significance is Significance.SIGNIFICANT


def test_zero_control_mean_returns_the_absolute_result_for_a_lift() -> None:
    # Given
    control, treatment = sample_stats_from(500, 0.0, 1.0), sample_stats_from(500, 0.5, 1.0)

    # When
    result = compare_means(control, treatment, relative=True)

    # Then
    assert result.reason is Caveat.ZERO_CONTROL_MEAN
    assert result.relative is False
    assert result.estimate == pytest.approx(0.5)
    assert result.significance is Significance.SIGNIFICANT


def test_unstable_baseline_refuses_a_finite_lift_interval() -> None:
    # Given: the control mean is within its own sampling noise of 0
    control, treatment = sample_stats_from(100, 0.05, 1.0), sample_stats_from(100, 0.5, 1.0)

    # When
    result = compare_means(control, treatment, relative=True)

    # Then
    assert result.reason is Caveat.UNSTABLE_BASELINE
    assert result.relative is False
    assert result.estimate == pytest.approx(0.45)


@pytest.mark.parametrize(
    ("keyword", "value"),
    [
        ("alpha", 0.0),
        ("alpha", 0.5),
        ("alpha", math.nan),
        ("alpha", "0.05"),
        ("alternative", "bigger"),
        ("min_n", 1),
    ],
)
def test_bad_configuration_raises_a_validation_error_naming_it(keyword: str, value: object) -> None:
    # Given
    arms = (sample_stats_from(500, 1.0, 1.0), sample_stats_from(500, 1.1, 1.0))

    # When / Then
    with pytest.raises(ValidationError, match=keyword):
        compare_means(*arms, **{keyword: value})  # type: ignore[arg-type]


def test_arms_of_different_kinds_are_refused() -> None:
    # When / Then
    with pytest.raises(ValidationError, match="both be SampleStats or both ProportionStats"):
        compare_means(sample_stats_from(500, 1.0, 1.0), ProportionStats(500, 50))  # type: ignore[arg-type]
