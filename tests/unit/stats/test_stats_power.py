"""Planning: sample sizes, minimum detectable effects and the guardrail's sample size."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as distributions

from rheostat.errors import ValidationError
from rheostat.stats import (
    guardrail_sample_size,
    guardrail_sample_size_proportions,
    minimum_detectable_effect,
    minimum_detectable_effect_proportions,
    one_sided_boundary,
    sample_size,
    sample_size_proportions,
)


def test_relative_mde_is_a_share_of_the_baseline() -> None:
    # When
    absolute = sample_size(200.0, 150.0, 5.0, relative=False)
    relative = sample_size(200.0, 150.0, 0.025)

    # Then
    assert relative == absolute == 14128


def test_unequal_arms_need_more_control_units() -> None:
    # When
    equal = sample_size(0.0, 150.0, 5.0, relative=False)
    doubled_treatment = sample_size(0.0, 150.0, 5.0, relative=False, ratio=2.0)

    # Then: n_C = z**2 (s**2 + s**2 / kappa) / d**2
    z = distributions.norm.isf(0.025) + distributions.norm.isf(0.2)
    assert equal == math.ceil(z**2 * 2 * 150.0**2 / 25.0)
    assert doubled_treatment == math.ceil(z**2 * 1.5 * 150.0**2 / 25.0)


@settings(max_examples=100)
@given(
    sd=st.floats(0.1, 1000.0),
    n=st.integers(10, 10**6),
    alpha=st.sampled_from([0.01, 0.05, 0.1]),
    power=st.floats(0.5, 0.99),
)
def test_mde_at_the_planned_sample_is_the_effect_planned_for(
    sd: float, n: int, alpha: float, power: float
) -> None:
    # Given
    mde = minimum_detectable_effect(0.0, sd, n, alpha=alpha, power=power, relative=False)

    # When
    needed = sample_size(0.0, sd, mde, alpha=alpha, power=power, relative=False)

    # Then
    assert needed in (n, n + 1)  # ceil of n, up to float rounding


def test_proportion_mde_solves_the_sample_size_equation() -> None:
    # When
    mde = minimum_detectable_effect_proportions(0.01, 7747, relative=False)
    relative = minimum_detectable_effect_proportions(0.01, 7747)

    # Then
    assert mde == pytest.approx(0.005, rel=1e-4)
    assert relative == pytest.approx(0.5, rel=1e-4)


def test_proportion_mde_is_none_when_no_effect_is_detectable() -> None:
    # When / Then
    assert minimum_detectable_effect_proportions(0.9, 2, alpha=0.01, power=0.99) is None


def test_guardrail_needs_about_twice_the_fixed_one_sided_sample_near_n_star() -> None:
    # Given: a plan whose guardrail total lands near N* = 10,000
    z_beta = distributions.norm.isf(0.2)
    sd, delta = 1.0, (2.778 + z_beta) * math.sqrt(4.0 / 11_000)

    # When
    total = guardrail_sample_size(0.0, sd, delta, relative=False)
    fixed_per_arm = sample_size(0.0, sd, delta, relative=False, alternative="greater")

    # Then
    assert total / (2 * fixed_per_arm) == pytest.approx(2.1, abs=0.05)
    margin = delta / math.sqrt(4.0 / total) - one_sided_boundary(total) - z_beta
    assert margin >= 0


def test_a_huge_effect_needs_only_the_smallest_sample() -> None:
    # When / Then
    assert guardrail_sample_size(0.0, 1.0, 1000.0, relative=False) == 4


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: sample_size(1.0, 0.0, 0.1), "baseline_sd"),
        (lambda: sample_size(0.0, 1.0, 0.1), "baseline_mean"),
        (lambda: sample_size(1.0, 1.0, 0.0), "mde"),
        (lambda: sample_size(1.0, 1.0, 0.1, power=1.0), "power"),
        (lambda: sample_size(1.0, 1.0, 0.1, alpha=0.7), "alpha"),
        (lambda: sample_size(1.0, 1.0, 0.1, alternative="sideways"), "alternative"),
        (lambda: sample_size(1.0, 1.0, 0.1, ratio=0), "ratio"),
        (lambda: sample_size_proportions(1.5, 0.1), "baseline_rate"),
        (lambda: sample_size_proportions(0.6, 1.0), "effect"),
        (lambda: minimum_detectable_effect(1.0, 1.0, 1), "n_per_arm"),
        (lambda: guardrail_sample_size(1.0, 1.0, 0.1, n_star=0), "n_star"),
        (lambda: guardrail_sample_size_proportions(0.01, 0.5, power=0), "power"),
        (lambda: guardrail_sample_size(0.0, 1.0, 1e-40, relative=False), "too small"),
    ],
)
def test_planning_refuses_bad_configuration(call: object, name: str) -> None:
    # When / Then
    with pytest.raises(ValidationError, match=name):
        call()  # type: ignore[operator]
