"""Sufficient statistics: means, variances, validation and merging."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rheostat.errors import ValidationError
from rheostat.stats import ProportionStats, SampleStats

values_lists = st.lists(st.floats(min_value=-1e4, max_value=1e4), min_size=2, max_size=60)


@settings(max_examples=200)
@given(values=values_lists)
def test_sample_stats_mean_and_variance_match_numpy(values: list[float]) -> None:
    # Given
    array = np.array(values)

    # When
    summary = SampleStats.of(values)

    # Then
    assert summary.n == len(values)
    assert summary.mean == pytest.approx(float(np.mean(array)), rel=1e-9, abs=1e-6)
    assert summary.variance == pytest.approx(float(np.var(array, ddof=1)), rel=1e-6, abs=1e-6)


def test_tiny_values_whose_squares_underflow_still_summarise() -> None:
    # Given two equal values so small that their squares are subnormal (a hypothesis finding)
    values = [1.3761593701930802e-161, 1.3761593701930802e-161]

    # When
    summary = SampleStats.of(values)

    # Then they are valid data: the mean is theirs and the variance 0
    assert summary.mean == pytest.approx(1.3761593701930802e-161, rel=1e-9)
    assert summary.variance == 0.0


def test_sample_stats_without_units_have_no_mean_and_one_unit_no_variance() -> None:
    # Given
    empty, single = SampleStats(0, 0.0, 0.0), SampleStats.of([4.0])

    # When / Then
    assert (empty.mean, empty.variance) == (None, None)
    assert (single.mean, single.variance) == (4.0, None)


def test_tiny_negative_variance_from_cancellation_is_clamped_to_zero() -> None:
    # Given: three units of 1e8, with sum_squares rounded a hair below sum**2 / n
    summary = SampleStats(3, 3e8, 3e16 * (1 - 1e-15))

    # When / Then
    assert summary.is_valid
    assert summary.variance == 0.0


@pytest.mark.parametrize(
    "summary",
    [
        SampleStats(-1, 0.0, 0.0),
        SampleStats(2.5, 1.0, 1.0),  # type: ignore[arg-type]
        SampleStats(True, 1.0, 1.0),  # a bool is not a count
        SampleStats(3, math.nan, 1.0),
        SampleStats(3, 1.0, math.inf),
        SampleStats(3, 30.0, 10.0),  # sum_squares < sum**2 / n
        SampleStats(0, 1.0, 1.0),  # no units but a sum
    ],
)
def test_sample_stats_that_cannot_come_from_data_are_invalid(summary: SampleStats) -> None:
    # When / Then
    assert not summary.is_valid
    assert summary.mean is None
    assert summary.variance is None


@settings(max_examples=100)
@given(first=values_lists, second=values_lists)
def test_merged_sample_stats_equal_the_joined_sample_in_any_order(
    first: list[float], second: list[float]
) -> None:
    # Given
    whole = SampleStats.of(first + second)

    # When
    merged, reversed_merge = (
        SampleStats.of(first).merge(SampleStats.of(second)),
        SampleStats.of(second).merge(SampleStats.of(first)),
    )

    # Then
    for summary in (merged, reversed_merge):
        assert summary.n == whole.n
        assert summary.sum == pytest.approx(whole.sum, rel=1e-9, abs=1e-6)
        assert summary.sum_squares == pytest.approx(whole.sum_squares, rel=1e-9, abs=1e-6)


def test_proportion_stats_count_bools_and_zero_one_values() -> None:
    # When
    summary = ProportionStats.of([True, False, 1, 0, 1.0, np.True_])

    # Then
    assert summary == ProportionStats(6, 4)
    assert summary.mean == pytest.approx(4 / 6)
    assert summary.variance == pytest.approx(4 / 6 * 2 / 6)  # m (1 - m), no n/(n - 1)


@pytest.mark.parametrize("bad", [2, 0.5, -1, "1", None])
def test_proportion_stats_of_refuse_values_that_are_not_outcomes(bad: object) -> None:
    # When / Then
    with pytest.raises(ValidationError, match=r"values\[2\]"):
        ProportionStats.of([1, 0, bad])


@pytest.mark.parametrize(
    "summary",
    [
        ProportionStats(-1, 0),
        ProportionStats(5, 6),
        ProportionStats(5, -1),
        ProportionStats(5, 2.5),  # type: ignore[arg-type]
    ],
)
def test_proportion_stats_outside_their_range_are_invalid(summary: ProportionStats) -> None:
    # When / Then
    assert not summary.is_valid
    assert (summary.mean, summary.variance) == (None, None)


def test_proportion_stats_without_units_have_no_mean() -> None:
    # When / Then
    assert ProportionStats(0, 0).is_valid
    assert ProportionStats(0, 0).mean is None


@given(
    first=st.lists(st.booleans(), max_size=50),
    second=st.lists(st.booleans(), max_size=50),
)
def test_merged_proportion_stats_equal_the_joined_sample(
    first: list[bool], second: list[bool]
) -> None:
    # When
    merged = ProportionStats.of(first).merge(ProportionStats.of(second))

    # Then
    assert merged == ProportionStats.of(first + second)
    assert merged == ProportionStats.of(second).merge(ProportionStats.of(first))
