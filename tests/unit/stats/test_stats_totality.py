"""Data never raise: any valid arms give finite numbers or an inconclusive result with a reason."""

from __future__ import annotations

import dataclasses
import math

from hypothesis import given, settings
from hypothesis import strategies as st
from stats_strategies import any_proportion_stats, any_sample_stats

from rheostat import stats
from rheostat.stats import (
    Comparison,
    GuardStatus,
    GuardVerdict,
    ProportionStats,
    SampleStats,
    Significance,
    SRMResult,
    Worse,
)

OPEN_ENDS = {"ci_lower", "ci_upper"}  # may be +-inf, for one-sided intervals only


def _assert_total(result: Comparison | GuardVerdict | SRMResult) -> None:
    for field in dataclasses.fields(result):
        value = getattr(result, field.name)
        if isinstance(value, float):
            assert not math.isnan(value), field.name
            assert math.isfinite(value) or field.name in OPEN_ENDS, field.name
    inconclusive = getattr(result, "significance", None) is Significance.INCONCLUSIVE or (
        getattr(result, "status", None) is GuardStatus.INCONCLUSIVE
    )
    if inconclusive:
        assert result.reason is not None
        assert getattr(result, "estimate", None) is None or isinstance(result, GuardVerdict)


@settings(max_examples=200, deadline=None)
@given(
    control=any_sample_stats(),
    treatment=any_sample_stats(),
    relative=st.booleans(),
    alternative=st.sampled_from(["two-sided", "greater", "less"]),
    min_n=st.sampled_from([2, 100]),
)
def test_mean_comparisons_are_total(
    control: SampleStats, treatment: SampleStats, relative: bool, alternative: str, min_n: int
) -> None:
    # When
    results = [
        stats.compare_means(
            control, treatment, relative=relative, alternative=alternative, min_n=min_n
        ),
        stats.compare_sequential(control, treatment, min_n=min_n),
    ]

    # Then
    for result in results:
        _assert_total(result)


@settings(max_examples=200, deadline=None)
@given(
    control=any_proportion_stats(),
    treatment=any_proportion_stats(),
    relative=st.booleans(),
    alternative=st.sampled_from(["two-sided", "greater", "less"]),
    min_events=st.sampled_from([0, 10]),
)
def test_proportion_comparisons_are_total(
    control: ProportionStats,
    treatment: ProportionStats,
    relative: bool,
    alternative: str,
    min_events: int,
) -> None:
    # When
    results = [
        stats.compare_proportions(
            control,
            treatment,
            relative=relative,
            alternative=alternative,
            min_n=2,
            min_events=min_events,
        ),
        stats.compare_sequential(control, treatment, min_n=2, min_events=min_events),
    ]

    # Then
    for result in results:
        _assert_total(result)


@settings(max_examples=200, deadline=None)
@given(
    arms=st.one_of(
        st.tuples(any_sample_stats(), any_sample_stats()),
        st.tuples(any_proportion_stats(), any_proportion_stats()),
    ),
    worse=st.sampled_from(list(Worse)),
    relative=st.booleans(),
    min_events=st.sampled_from([0, 10]),
)
def test_guard_verdicts_are_total(
    arms: tuple[SampleStats, SampleStats] | tuple[ProportionStats, ProportionStats],
    worse: Worse,
    relative: bool,
    min_events: int,
) -> None:
    # When
    verdict = stats.sequential_guard(
        *arms, worse=worse, relative=relative, min_n=2, min_events=min_events
    )

    # Then
    _assert_total(verdict)
    if verdict.status is not GuardStatus.INCONCLUSIVE:
        assert verdict.estimate is not None
        assert math.isfinite(verdict.estimate)


@settings(max_examples=200, deadline=None)
@given(
    counts=st.lists(st.integers(min_value=0, max_value=10**9), min_size=2, max_size=5),
    data=st.data(),
)
def test_srm_is_total(counts: list[int], data: st.DataObject) -> None:
    # Given
    weights = data.draw(
        st.lists(st.floats(0.0, 1e6), min_size=len(counts), max_size=len(counts)).filter(
            lambda ws: sum(w > 0 for w in ws) >= 2
        )
    )

    # When
    result = stats.srm_test(counts, weights)

    # Then
    _assert_total(result)
    if result.chi2 is None:
        assert result.reason is not None
