"""Edges of the experiment model and analysis: refused definitions, one-sided metrics, lookups."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

import rheostat.experiments
from rheostat.errors import ValidationError
from rheostat.experiments import Arm, ArmData, Experiment, MetricKind, MetricSpec, analyze
from rheostat.stats import ProportionStats, SampleStats

AT = datetime(2026, 11, 24, tzinfo=UTC)
EXPERIMENT = Experiment(
    key="copy-test",
    arms=(Arm(name="control", weight_percent=50), Arm(name="treatment", weight_percent=50)),
    metrics=(MetricSpec(name="converted", kind=MetricKind.PROPORTION),),
)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(
            {"coverage_percent": 100.5}, "coverage_percent must be within 0..100", id="coverage"
        ),
        pytest.param(
            {"coverage_percent": -1}, "coverage_percent must be within 0..100", id="negative"
        ),
        pytest.param({"alpha": 0.5}, "alpha must be within (0, 0.5)", id="alpha 0.5"),
        pytest.param({"alpha": 0}, "alpha must be within (0, 0.5)", id="alpha 0"),
    ],
)
def test_an_out_of_range_setting_is_refused(change: dict[str, Any], message: str) -> None:
    # Given an experiment with one setting out of its range

    # When it is built
    with pytest.raises(ValidationError) as refused:
        replace(EXPERIMENT, **change)

    # Then the setting and the value are named
    assert message in str(refused.value)
    assert str(next(iter(change.values()))) in str(refused.value)


def test_two_arms_with_one_name_are_refused() -> None:
    # Given two arms called the same
    arms = (Arm(name="control", weight_percent=50), Arm(name="control", weight_percent=50))

    # When the experiment is built
    with pytest.raises(ValidationError) as refused:
        Experiment(key="twins", arms=arms)

    # Then the arms field is named
    assert "arm names must be unique" in str(refused.value)
    assert refused.value.details["field"] == "arms"


def test_an_untracked_metric_is_a_mean_where_higher_is_better() -> None:
    # Given an experiment that tracks only conversions

    # When it is asked about another metric
    spec = EXPERIMENT.metric("latency")

    # Then the metric gets the default reading
    assert spec == MetricSpec(name="latency", kind=MetricKind.MEAN, higher_is_better=True)


def test_a_metric_seen_in_one_arm_only_is_inconclusive_and_invalidates_the_result() -> None:
    # Given a treatment that reported a proportion and a mean the control never did
    arms = {
        "control": ArmData(name="control", units=100),
        "treatment": ArmData(
            name="treatment",
            units=100,
            metrics={
                "converted": ProportionStats(n=100, successes=10),
                "latency": SampleStats(n=100, sum=25_000.0, sum_squares=6_500_000.0),
            },
        ),
    }

    # When the experiment is analysed
    results = analyze(EXPERIMENT, arms, at=AT)

    # Then each metric compares against an empty control and says why it cannot conclude
    reasons = {result.metric: result.absolute.reason for result in results.comparisons}
    assert reasons == {"converted": "too_few_units", "latency": "too_few_units"}
    assert all(result.improvement is None for result in results.comparisons)
    assert results.invalid_reasons == ("too_little_data",)
    assert not results.significant


def test_the_mean_of_an_unobserved_arm_or_metric_is_none() -> None:
    # Given results where only the treatment observed conversions
    arms = {
        "control": ArmData(name="control", units=100),
        "treatment": ArmData(
            name="treatment", units=100, metrics={"converted": ProportionStats(n=100, successes=10)}
        ),
    }
    results = analyze(EXPERIMENT, arms, at=AT)

    # When means are looked up
    means = (
        results.mean_of("treatment", "converted"),
        results.mean_of("control", "converted"),
        results.mean_of("holdout", "converted"),
    )

    # Then only the observed one has a value
    assert means == (0.1, None, None)


def test_an_unknown_name_in_the_package_raises_attribute_error() -> None:
    # Given the package, whose analysis names load lazily

    # When a name it does not have is looked up
    with pytest.raises(AttributeError) as raised:
        rheostat.experiments.analyse  # noqa: B018  # the lookup itself is under test

    # Then the error names the module and the missing name, as Python's own does
    assert str(raised.value) == "module 'rheostat.experiments' has no attribute 'analyse'"
