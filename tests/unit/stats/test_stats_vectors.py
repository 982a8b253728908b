"""Reference vectors from independent sources (tests/vectors/stats/*.json)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from scipy import optimize
from stats_strategies import sample_stats_from

from rheostat.stats import (
    GuardSettings,
    GuardStatus,
    ProportionStats,
    SampleStats,
    Significance,
    always_valid_p_value,
    compare_means,
    compare_proportions,
    guardrail_sample_size,
    guardrail_sample_size_proportions,
    minimum_detectable_effect,
    one_sided_boundary,
    sample_size,
    sample_size_proportions,
    sequential_guard,
    srm_test,
    two_sided_boundary,
)

VECTORS = Path(__file__).parents[2] / "vectors" / "stats"
EXAMPLES = json.loads((VECTORS / "worked_examples.json").read_text())


def _load(name: str) -> tuple[list[dict[str, Any]], dict[str, float]]:
    document = json.loads((VECTORS / name).read_text())
    return document["cases"], document["tolerance"]


def _assert_close(actual: float | None, expected: float, tolerance: dict[str, float]) -> None:
    assert actual is not None
    assert math.isclose(
        actual, expected, rel_tol=tolerance["rel"], abs_tol=tolerance.get("abs", 0.0)
    ), (actual, expected)


def _assert_printed(actual: float | None, printed: list[float]) -> None:
    value, tolerance = printed
    assert actual is not None
    assert abs(actual - value) <= tolerance * (1 + 1e-9), (actual, value)


def _sample(arm: dict[str, float]) -> SampleStats:
    return SampleStats(int(arm["n"]), arm["sum"], arm["sum_squares"])


@pytest.mark.parametrize("case", _load("welch.json")[0])
def test_welch_vectors_from_scipy_raw_data(case: dict[str, Any]) -> None:
    # Given
    inputs, expected = case["inputs"], case["expected"]
    tolerance = _load("welch.json")[1]

    # When
    result = compare_means(
        _sample(inputs["control"]),
        _sample(inputs["treatment"]),
        alternative=inputs["alternative"],
        alpha=inputs["alpha"],
    )

    # Then
    for field in ("statistic", "p_value", "dof", "ci_lower", "ci_upper"):
        _assert_close(getattr(result, field), expected[field], tolerance)


@pytest.mark.parametrize("case", _load("proportions.json")[0])
def test_proportion_vectors_from_statsmodels(case: dict[str, Any]) -> None:
    # Given
    inputs, expected = case["inputs"], case["expected"]
    tolerance = _load("proportions.json")[1]

    # When
    result = compare_proportions(
        ProportionStats(**inputs["control"]),
        ProportionStats(**inputs["treatment"]),
        alternative=inputs["alternative"],
        alpha=inputs["alpha"],
    )

    # Then
    for field, value in expected.items():
        _assert_close(getattr(result, field), value, tolerance)


@pytest.mark.parametrize("case", _load("srm.json")[0])
def test_srm_vectors_from_scipy(case: dict[str, Any]) -> None:
    # When
    result = srm_test(case["inputs"]["counts"], case["inputs"]["weights"])

    # Then
    tolerance = _load("srm.json")[1]
    _assert_close(result.chi2, case["expected"]["chi2"], tolerance)
    _assert_close(result.p_value, case["expected"]["p_value"], tolerance)
    assert result.mismatch is case["expected"]["mismatch"]


@pytest.mark.parametrize("case", _load("mixture.json")[0])
def test_mixture_vectors_from_quadrature(case: dict[str, Any]) -> None:
    # Given
    inputs, tolerance = case["inputs"], _load("mixture.json")[1]
    keywords = {"alpha": inputs["alpha"], "n_star": inputs["n_star"]}

    # When
    p_value = always_valid_p_value(inputs["statistic"], inputs["n_total"], **keywords)
    boundary = two_sided_boundary(inputs["n_total"], **keywords)

    # Then
    _assert_close(p_value, case["expected"]["p_value"], tolerance)
    _assert_close(boundary, case["expected"]["two_sided_boundary"], tolerance)


@pytest.mark.parametrize("case", _load("power.json")[0])
def test_power_vectors_from_statsmodels(case: dict[str, Any]) -> None:
    # Given
    inputs, expected = case["inputs"], case["expected"]
    keywords = {"alpha": inputs["alpha"], "power": inputs["power"], "relative": False}
    tolerance = _load("power.json")[1]

    # When / Then
    if "nobs_per_arm" in expected:
        n = sample_size(0.0, inputs["sd"], inputs["mde"], alternative="greater", **keywords)
        assert n == math.ceil(expected["nobs_per_arm"])
    else:
        mde = minimum_detectable_effect(
            0.0, inputs["sd"], inputs["n_per_arm"], alternative="greater", **keywords
        )
        _assert_close(mde, expected["mde"], tolerance)


def test_stats_md_welch_example() -> None:
    # Given
    example = EXAMPLES["welch"]
    arms = [
        sample_stats_from(arm["n"], arm["mean"], arm["sd"])
        for arm in (example["inputs"]["control"], example["inputs"]["treatment"])
    ]

    # When
    absolute, lift = compare_means(*arms), compare_means(*arms, relative=True)

    # Then
    for field, printed in example["expected"].items():
        if field == "significance":
            assert absolute.significance is Significance(printed)
        else:
            _assert_printed(getattr(absolute, field), printed)
    for field, printed in example["expected_lift"].items():
        _assert_printed(getattr(lift, field), printed)


def test_stats_md_proportion_example() -> None:
    # Given
    example = EXAMPLES["proportions"]
    control = ProportionStats(**example["inputs"]["control"])
    treatment = ProportionStats(**example["inputs"]["treatment"])

    # When
    absolute = compare_proportions(control, treatment)
    lift = compare_proportions(control, treatment, relative=True)

    # Then
    for field, printed in example["expected"].items():
        if field == "significance":
            assert absolute.significance is Significance(printed)
        else:
            _assert_printed(getattr(absolute, field), printed)
    for field, printed in example["expected_lift"].items():
        _assert_printed(getattr(lift, field), printed)


@pytest.mark.parametrize("case", EXAMPLES["srm"]["cases"])
def test_stats_md_srm_examples(case: dict[str, Any]) -> None:
    # When
    result = srm_test(case["inputs"]["counts"], case["inputs"]["weights"])

    # Then
    _assert_printed(result.chi2, case["expected"]["chi2"])
    _assert_printed(result.p_value, case["expected"]["p_value"])
    assert result.mismatch is case["expected"]["mismatch"]


def test_stats_md_c1_table_and_mixture_scale() -> None:
    # Given
    table = EXAMPLES["one_sided_boundary"]

    # When / Then
    for case in table["mixture_scale"]:
        settings = GuardSettings(alpha=case["alpha"], n_star=case["n_star"])
        _assert_printed(settings.mixture_scale, case["expected"])
    for case in table["cases"]:
        boundary = one_sided_boundary(case["n_total"], alpha=case["alpha"], n_star=case["n_star"])
        _assert_printed(boundary, case["expected"])


def test_stats_md_c1_minimum() -> None:
    # Given
    minimum = EXAMPLES["one_sided_boundary"]["minimum"]

    # When
    found = optimize.minimize_scalar(
        lambda n: one_sided_boundary(n, alpha=minimum["alpha"], n_star=10_000),
        bounds=(1_000, 100_000),
        method="bounded",
    )

    # Then
    _assert_printed(found.fun, minimum["value"])
    _assert_printed(found.x / 10_000, minimum["at_n_over_n_star"])


@pytest.mark.parametrize("case", EXAMPLES["guard"]["cases"])
def test_stats_md_guardrail_example(case: dict[str, Any]) -> None:
    # Given
    settings = EXAMPLES["guard"]["settings"]
    control = ProportionStats(**case["inputs"]["control"])
    treatment = ProportionStats(**case["inputs"]["treatment"])

    # When
    verdict = sequential_guard(control, treatment, **settings)
    fixed = compare_proportions(control, treatment, alternative="greater")

    # Then
    expected = case["expected"]
    assert verdict.status is GuardStatus(expected["status"])
    assert verdict.estimate is not None
    assert verdict.se is not None
    _assert_printed(verdict.estimate / verdict.se, expected["statistic"])
    _assert_printed(verdict.ci_lower, expected["bound"])
    if "se" in expected:
        _assert_printed(verdict.se, expected["se"])
        _assert_printed(fixed.p_value, expected["fixed_one_sided_p_value"])


def test_stats_md_sample_sizes() -> None:
    # Given
    means, proportions = EXAMPLES["sample_size"]["means"], EXAMPLES["sample_size"]["proportions"]
    sd, mde = means["inputs"]["baseline_sd"], means["inputs"]["mde"]
    rate = proportions["inputs"]["baseline_rate"]
    effect = proportions["inputs"]["treatment_rate"] - rate

    # When
    found_means = {
        "two_sided": sample_size(0.0, sd, mde, relative=False),
        "one_sided": sample_size(0.0, sd, mde, relative=False, alternative="greater"),
        "guardrail_total": guardrail_sample_size(0.0, sd, mde, relative=False),
    }
    found_proportions = {
        "two_sided": sample_size_proportions(rate, effect, relative=False),
        "one_sided": sample_size_proportions(rate, effect, relative=False, alternative="less"),
        "guardrail_total": guardrail_sample_size_proportions(rate, effect, relative=False),
    }

    # Then
    assert found_means == means["expected"]
    assert found_proportions == proportions["expected"]
