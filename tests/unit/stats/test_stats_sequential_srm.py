"""The always-valid sample-ratio check: honest however often it is looked at, and still sharp.

It is what a release plan's assignment check runs at every look; the chi-square test looked at
as often cries wolf (the A/A test below shows both).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rheostat.errors import ValidationError
from rheostat.stats import Caveat, sequential_srm_test, srm_test
from rheostat.stats.srm import SRM_CONCENTRATION


def _beta_binomial_log_factor(x: int, n: int, p: float, k: float) -> float:
    """The two-arm Bayes factor written out: Beta(k p, k (1 - p)) mixture against p."""
    a, b = k * p, k * (1 - p)
    log_beta = math.lgamma(a + x) + math.lgamma(b + n - x) - math.lgamma(a + b + n)
    log_prior = math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    return log_beta - log_prior - (x * math.log(p) + (n - x) * math.log(1 - p))


@settings(max_examples=200, deadline=None)
@given(
    treated=st.integers(10, 200_000),
    held=st.integers(10, 200_000),
    ratio=st.floats(0.2, 5.0),
)
def test_the_bayes_factor_is_the_beta_binomial_mixture(
    treated: int, held: int, ratio: float
) -> None:
    result = sequential_srm_test([treated, held], [ratio, 1.0], alpha=0.001)
    share = ratio / (ratio + 1)
    if min(share, 1 - share) * (treated + held) < 5:
        assert result.reason is Caveat.LOW_EXPECTED_COUNT
        return
    expected = _beta_binomial_log_factor(treated, treated + held, share, SRM_CONCENTRATION)
    assert result.p_value == pytest.approx(min(1.0, math.exp(-expected)), rel=1e-6, abs=1e-300)
    assert result.mismatch == (expected >= math.log(1000))


def test_looked_at_after_every_window_it_stays_within_alpha_where_chi_square_does_not() -> None:
    # Given 400 A/A streams of 60 windows of ~200 units each, split 50/50 as intended
    rng = np.random.default_rng(2026)
    alpha, streams, looks = 0.05, 400, 60
    sequential_alarms = chi_square_alarms = 0
    for _ in range(streams):
        treated = held = 0
        sequential = chi_square = False
        for _ in range(looks):
            window = int(rng.poisson(200))
            hit = int(rng.binomial(window, 0.5))
            treated, held = treated + hit, held + window - hit
            sequential = (
                sequential or sequential_srm_test([treated, held], [1, 1], alpha=alpha).mismatch
            )
            chi_square = chi_square or srm_test([treated, held], [1, 1], threshold=alpha).mismatch
        sequential_alarms += sequential
        chi_square_alarms += chi_square

    # Then the always-valid test's false alarms stay under alpha over all the looks, while a
    # chi-square test at the same level, peeked at as often, cries wolf several times as often
    assert sequential_alarms / streams <= alpha
    assert chi_square_alarms / streams > 3 * alpha


def test_a_holdback_that_loses_a_tenth_of_its_units_is_caught() -> None:
    # Given a 1:1 split in which the holdback gets 10 % fewer units than it should
    rng = np.random.default_rng(7)
    caught_at = []
    for _ in range(50):
        treated = held = 0
        for look in range(1, 200):
            treated += int(rng.poisson(500))
            held += int(rng.poisson(450))
            if sequential_srm_test([treated, held], [1, 1], alpha=0.001).mismatch:
                caught_at.append(look)
                break

    # Then every stream is caught, within a few thousand units
    assert len(caught_at) == 50
    assert float(np.median(caught_at)) * 950 < 10_000


def test_it_says_why_it_could_not_run_and_refuses_bad_settings() -> None:
    assert sequential_srm_test([0, 0], [1, 1]).reason is Caveat.NO_UNITS
    assert sequential_srm_test([3, 2], [1, 1]).reason is Caveat.LOW_EXPECTED_COUNT
    assert sequential_srm_test([3.5, 200], [1, 1]).reason is Caveat.INVALID_INPUT  # type: ignore[list-item]
    stray = sequential_srm_test([500, 480, 3], [50, 50, 0])
    assert stray.mismatch
    assert stray.reason is Caveat.UNITS_IN_ZERO_WEIGHT_ARM
    with pytest.raises(ValidationError, match="concentration"):
        sequential_srm_test([500, 500], [1, 1], concentration=0)
    with pytest.raises(ValidationError, match="alpha"):
        sequential_srm_test([500, 500], [1, 1], alpha=0.7)
    with pytest.raises(ValidationError, match="weights"):
        sequential_srm_test([500, 500], [1])
