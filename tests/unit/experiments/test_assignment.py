"""Experiment assignment through the flag engine."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from rheostat import FlagSet, ValidationError
from rheostat.experiments import Arm, Experiment, assign, assignment_document

UNITS = [f"user-{index}" for index in range(20_000)]


def experiment(coverage: float = 100.0) -> Experiment:
    arms = (Arm(name="control", weight_percent=50), Arm(name="treatment", weight_percent=50))
    return Experiment(key="ner-models", arms=arms, coverage_percent=coverage)


def assignments(exp: Experiment) -> dict[str, str | None]:
    flags = FlagSet.from_dict(assignment_document(exp))
    return {unit: assign(flags, exp, unit) for unit in UNITS}


def test_arms_follow_the_weights() -> None:
    counts = Counter(assignments(experiment()).values())
    assert set(counts) == {"control", "treatment"}
    assert abs(counts["control"] - 10_000) < 400


def test_raising_coverage_never_moves_an_assigned_unit() -> None:
    # Given assignments at 20% and at 60% coverage
    narrow, wide = assignments(experiment(20)), assignments(experiment(60))
    # Then about 20% are in at first, and each of them keeps its arm when coverage rises
    included = {unit: arm for unit, arm in narrow.items() if arm is not None}
    assert 0.18 < len(included) / len(UNITS) < 0.22
    assert all(wide[unit] == arm for unit, arm in included.items())


def test_bad_experiments_are_refused_with_the_field() -> None:
    with pytest.raises(ValidationError, match="sum to 100"):
        replace(
            experiment(), arms=(Arm(name="a", weight_percent=60), Arm(name="b", weight_percent=60))
        )
    with pytest.raises(ValidationError, match="at least two arms"):
        replace(experiment(), arms=(Arm(name="a", weight_percent=100),))
    with pytest.raises(ValidationError, match="experiment key"):
        replace(experiment(), key="has space")
