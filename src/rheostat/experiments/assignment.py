"""Assignment through the flag engine: an experiment is a flag whose variants are its arms.

Two flags per experiment: ``experiment.<key>.included`` splits all units by coverage, and
``experiment.<key>`` splits the included ones between arms (the inclusion flag is its
prerequisite). Each has its own salt, so raising coverage adds units without moving anyone.
"""

from __future__ import annotations

from typing import Any

from rheostat.experiments.model import Experiment
from rheostat.flags import Context, FlagSet, Reason

__all__ = ["assign", "assignment_document", "inclusion_flag_key"]


def inclusion_flag_key(experiment: Experiment) -> str:
    """The flag that decides whether a unit is in the experiment at all."""
    return f"{experiment.flag_key}.included"


def assignment_document(experiment: Experiment) -> dict[str, Any]:
    """Return the native flag document that assigns units to ``experiment``'s arms."""
    coverage = round(experiment.coverage_percent, 3)
    included = inclusion_flag_key(experiment)
    arms = {arm.name: arm.name for arm in experiment.arms}
    return {
        "version": 1,
        "flags": {
            included: {
                "variants": {"in": True, "out": False},
                "default": "out",
                "salt": f"{included}:coverage",
                "rules": [{"serve": {"split": {"in": coverage, "out": round(100 - coverage, 3)}}}],
            },
            experiment.flag_key: {
                "description": experiment.description,
                "variants": arms,
                "default": experiment.control.name,
                "salt": experiment.flag_key,
                "prerequisites": [{"flag": included, "variants": ["in"]}],
                "rules": [
                    {"serve": {"split": {a.name: a.weight_percent for a in experiment.arms}}}
                ],
            },
        },
    }


def assign(flags: FlagSet, experiment: Experiment, unit: str) -> str | None:
    """Return the arm of ``unit``, or None when it is outside the experiment's coverage."""
    evaluation = flags.evaluate(experiment.flag_key, Context(key=unit))
    if evaluation.reason is not Reason.SPLIT:
        return None
    return evaluation.variant
