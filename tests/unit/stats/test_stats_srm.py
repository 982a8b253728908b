"""Sample-ratio mismatch against scipy.stats.chisquare, and its reasons."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as distributions

from rheostat.errors import ValidationError
from rheostat.stats import Caveat, srm_test


@st.composite
def splits(draw: st.DrawFn) -> tuple[list[int], list[float]]:
    """Counts and positive weights with every expected count >= 5."""
    arms = draw(st.integers(min_value=2, max_value=6))
    weights = draw(st.lists(st.floats(0.5, 100.0), min_size=arms, max_size=arms))
    counts = draw(st.lists(st.integers(0, 1_000_000), min_size=arms, max_size=arms))
    total = sum(counts)
    if total == 0 or min(weights) / sum(weights) * total < 5:
        counts = [count + 1000 for count in counts]
    return counts, weights


@settings(max_examples=200, deadline=None)
@given(split=splits())
def test_srm_matches_scipy_chisquare(split: tuple[list[int], list[float]]) -> None:
    # Given
    counts, weights = split
    expected = np.array(weights) / sum(weights) * sum(counts)
    reference = distributions.chisquare(counts, f_exp=expected)

    # When
    result = srm_test(counts, weights)

    # Then
    assert result.chi2 is not None
    assert result.p_value is not None
    assert math.isclose(result.chi2, float(reference.statistic), rel_tol=1e-9, abs_tol=1e-9)
    assert math.isclose(result.p_value, float(reference.pvalue), rel_tol=1e-9, abs_tol=1e-300)
    assert result.mismatch == (result.p_value < 0.001)


def test_units_in_an_arm_meant_to_get_none_are_a_mismatch() -> None:
    # When
    result = srm_test([500, 480, 3], [50, 50, 0])

    # Then
    assert result.mismatch is True
    assert result.reason is Caveat.UNITS_IN_ZERO_WEIGHT_ARM


def test_an_empty_arm_with_zero_weight_is_left_out_of_the_test() -> None:
    # When
    result = srm_test([500, 480, 0], [50, 50, 0])

    # Then
    assert result.mismatch is False
    assert result.chi2 == pytest.approx(2 * 10**2 / 490)  # E = 490 in both weighted arms


@pytest.mark.parametrize(
    ("counts", "reason"),
    [
        ([0, 0], Caveat.NO_UNITS),
        ([4, 3], Caveat.LOW_EXPECTED_COUNT),
        ([-1, 30], Caveat.INVALID_INPUT),
        ([2.5, 30], Caveat.INVALID_INPUT),
    ],
)
def test_srm_that_cannot_run_says_why(counts: list[int], reason: Caveat) -> None:
    # When
    result = srm_test(counts, [1, 1])

    # Then
    assert (result.chi2, result.p_value, result.mismatch) == (None, None, False)
    assert result.reason is reason


@pytest.mark.parametrize(
    ("weights", "threshold", "name"),
    [
        ([1, 1, 1], 0.001, "weights"),
        ([1, 0], 0.001, "weights"),
        ([1, -1], 0.001, r"weights\[1\]"),
        ([1, math.inf], 0.001, r"weights\[1\]"),
        ([1, 1], 0.0, "threshold"),
    ],
)
def test_srm_refuses_bad_configuration(weights: list[float], threshold: float, name: str) -> None:
    # When / Then
    with pytest.raises(ValidationError, match=name):
        srm_test([100, 100], weights, threshold=threshold)
