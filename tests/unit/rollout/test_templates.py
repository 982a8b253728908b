"""Templates give the seeds' stage lists; ``strategy:`` in a document expands to them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from rheostat.errors import InvalidDefinition
from rheostat.rollout import TEMPLATES, RampStage, plan_from_dict, plan_to_dict, template

FIVE_MINUTES = timedelta(minutes=5)


def percents(stages: Any) -> list[float]:
    return [stage.percent for stage in stages]


def test_canary_is_seed_001s_ramp_with_a_holdback_while_one_fits() -> None:
    # When the canary template is expanded with its defaults
    stages = template("canary")

    # Then it ramps 1 -> 5 -> 10 -> 25 -> 50 -> 100, 5 minutes each (seed 001), holding back
    # an equal-size control group up to 50 %
    assert stages == (
        RampStage(percent=1.0, bake=FIVE_MINUTES, holdback=True),
        RampStage(percent=5.0, bake=FIVE_MINUTES, holdback=True),
        RampStage(percent=10.0, bake=FIVE_MINUTES, holdback=True),
        RampStage(percent=25.0, bake=FIVE_MINUTES, holdback=True),
        RampStage(percent=50.0, bake=FIVE_MINUTES, holdback=True),
        RampStage(percent=100.0, bake=FIVE_MINUTES),
    )


def test_linear_is_seed_002s_weekly_ramp_from_a_baseline() -> None:
    stages = template("linear")
    assert percents(stages) == [0.0, 10.0, 25.0, 50.0, 100.0]
    assert {stage.bake for stage in stages} == {timedelta(days=7)}


def test_blue_green_validates_at_zero_then_switches_everyone() -> None:
    assert template("blue_green", bake=timedelta(minutes=15)) == (
        RampStage(percent=0.0, bake=timedelta(minutes=15)),
        RampStage(percent=100.0, bake=timedelta(minutes=15)),
    )


def test_ring_serves_each_ring_whole_then_everyone() -> None:
    assert template("ring") == (
        RampStage(percent=100.0, bake=FIVE_MINUTES, segments=("internal",)),
        RampStage(percent=100.0, bake=FIVE_MINUTES, segments=("beta",)),
        RampStage(percent=100.0, bake=FIVE_MINUTES),
    )


def test_ring_names_come_from_the_caller() -> None:
    stages = template("ring", rings=["staff", "early-access", "eu"], target_percentage=20)
    assert [stage.segments for stage in stages] == [
        ("staff",),
        ("early-access",),
        ("eu",),
        (),
    ]
    assert percents(stages) == [100.0, 100.0, 100.0, 20.0]


def test_percentage_ramps_through_the_given_steps() -> None:
    assert percents(template("percentage", percentages=[10, 30, 100])) == [10.0, 30.0, 100.0]
    assert percents(template("percentage", percentages=[10, 30, 60])) == [10.0, 30.0, 60.0]


@pytest.mark.parametrize(
    ("name", "target", "expected"),
    [
        ("canary", 30, [1.0, 5.0, 10.0, 25.0, 30.0]),
        ("canary", 25, [1.0, 5.0, 10.0, 25.0]),
        ("canary", 0.5, [0.5]),
        ("linear", 50, [0.0, 10.0, 25.0, 50.0]),
        ("blue_green", 40, [0.0, 40.0]),
    ],
)
def test_steps_above_the_target_are_dropped_and_the_target_is_last(
    name: str, target: float, expected: list[float]
) -> None:
    assert percents(template(name, target_percentage=target)) == expected


def test_percentage_drops_steps_above_the_target() -> None:
    stages = template("percentage", percentages=[10, 30, 100], target_percentage=50)
    assert percents(stages) == [10.0, 30.0, 50.0]


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_template_ends_at_its_target_and_is_a_valid_plan(name: str) -> None:
    # Given a plan document naming the strategy
    options: dict[str, Any] = {"percentages": [20, 70]} if name == "percentage" else {}
    document = {"plan": "p", "flag": "f", "environment": "e", "strategy": name, **options}

    # When it is read
    plan = plan_from_dict(document)

    # Then its stages are the template's, the last at the target, and the canonical document
    # (stages written out) reads back to the same plan
    assert plan.stages == template(name, **options)
    assert percents(plan.stages)[-1] == (70.0 if name == "percentage" else 100.0)
    assert plan_from_dict(plan_to_dict(plan)) == plan


def test_a_document_passes_target_bake_and_rings_to_the_template() -> None:
    document = {
        "plan": "p",
        "flag": "f",
        "environment": "e",
        "strategy": "ring",
        "rings": ["staff"],
        "target_percentage": 50,
        "bake": "1h",
    }
    assert plan_from_dict(document).stages == (
        RampStage(percent=100.0, bake=timedelta(hours=1), segments=("staff",)),
        RampStage(percent=50.0, bake=timedelta(hours=1)),
    )


def strategy(**fields: Any) -> dict[str, Any]:
    return {"plan": "p", "flag": "f", "environment": "e", **fields}


@pytest.mark.parametrize(
    ("document", "path", "reason"),
    [
        (strategy(strategy="big_bang"), "strategy", "unknown strategy 'big_bang'"),
        (strategy(strategy=["canary"]), "strategy", "unknown strategy"),
        (strategy(strategy="canary", target_percentage=0), "target_percentage", "above 0"),
        (strategy(strategy="canary", target_percentage=101), "target_percentage", "0 to 100"),
        (strategy(strategy="canary", target_percentage="50"), "target_percentage", "number"),
        (strategy(strategy="canary", bake="5 minutes"), "bake", "duration"),
        (strategy(strategy="canary", rings=["a"]), "rings", "only for strategy ring"),
        (strategy(strategy="ring", percentages=[5]), "percentages", "only for strategy perc"),
        (strategy(strategy="ring", rings=[]), "rings", "at least one segment"),
        (strategy(strategy="ring", rings="beta"), "rings", "must be a list"),
        (strategy(strategy="ring", rings=["a b"]), "rings[0]", "not valid"),
        (strategy(strategy="percentage"), "percentages", "missing"),
        (strategy(strategy="percentage", percentages=[]), "percentages", "at least one"),
        (strategy(strategy="percentage", percentages=[10, 10]), "percentages[1]", "above"),
        (strategy(strategy="percentage", percentages=[10, "x"]), "percentages[1]", "number"),
    ],
)
def test_a_wrong_strategy_is_refused_naming_its_key(
    document: dict[str, Any], path: str, reason: str
) -> None:
    with pytest.raises(InvalidDefinition) as raised:
        plan_from_dict(document)
    assert raised.value.path == path
    assert reason in raised.value.reason
