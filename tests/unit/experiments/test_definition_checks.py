"""What the services check beyond the model: names, metrics, duration, batches."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from rheostat.errors import ValidationError
from rheostat.experiments import Arm, Experiment, MetricSpec
from rheostat.experiments.validate import (
    MAX_BATCH,
    MAX_METRIC_VALUE,
    assignment_flags,
    validate_batch,
    validate_definition,
    validate_value,
)

EXPERIMENT = Experiment(
    key="ner",
    arms=(Arm(name="control", weight_percent=50), Arm(name="treatment", weight_percent=50)),
)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {
                "arms": (
                    Arm(name="control", weight_percent=50),
                    Arm(name="two words", weight_percent=50),
                )
            },
            "arms[1].name",
        ),
        ({"metrics": (MetricSpec(name="latency"), MetricSpec(name="latency"))}, "metrics"),
        ({"metrics": (MetricSpec(name=""),)}, "metrics[0].name"),
        ({"duration_days": 0}, "duration_days"),
        ({"duration_days": float("nan")}, "duration_days"),
        ({"description": "x" * 2001}, "description"),
    ],
)
def test_a_bad_definition_is_refused_naming_the_field(
    change: dict[str, object], field: str
) -> None:
    # Given an experiment with one bad part / When it is checked / Then the field is named
    with pytest.raises(ValidationError) as refused:
        validate_definition(replace(EXPERIMENT, **change))
    assert refused.value.details["field"] == field


def test_a_good_definition_passes_and_its_flags_are_shared() -> None:
    # Given a valid experiment / When it is checked and its flags built twice
    validate_definition(replace(EXPERIMENT, duration_days=7, metrics=(MetricSpec(name="ok"),)))
    first = assignment_flags(EXPERIMENT.key, EXPERIMENT.arms, EXPERIMENT.coverage_percent)
    second = assignment_flags(EXPERIMENT.key, EXPERIMENT.arms, EXPERIMENT.coverage_percent)

    # Then the compiled flags are built once
    assert first is second


def test_batches_are_lists_of_bounded_size() -> None:
    # Given / When / Then
    validate_batch([], "events")
    with pytest.raises(ValidationError, match="at most 10000"):
        validate_batch([None] * (MAX_BATCH + 1), "events")
    with pytest.raises(ValidationError, match="must be a list"):
        validate_batch("abc", "events")


@pytest.mark.parametrize("value", [1e308, -1e308, 1e12 * 1.000001, float("inf"), True, "1"])
def test_a_metric_value_beyond_the_bound_is_refused(value: object) -> None:
    # Given / When / Then a value whose square could overflow a sum is refused, naming the field
    with pytest.raises(ValidationError, match=r"events\[0\].value must be a finite number from"):
        validate_value(value, "events[0].value")


def test_a_metric_value_within_the_bound_is_accepted() -> None:
    # Given / When / Then the bound itself is accepted, and its square is far from overflow
    assert validate_value(-MAX_METRIC_VALUE, "value") == -1e12
    assert math.isfinite(MAX_BATCH * 1e250 * MAX_METRIC_VALUE**2)
