"""Experiments: arms assigned by the flag engine, results from sufficient statistics (pure).

The analysis names load ``rheostat.stats`` (numpy and scipy) on first use, so that the store,
the services and the CLI can use the model without paying for scipy at start-up.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from rheostat.experiments.assignment import assign, assignment_document, inclusion_flag_key
from rheostat.experiments.model import Arm, Experiment, ExperimentStatus, MetricKind, MetricSpec

if TYPE_CHECKING:
    from rheostat.experiments.analysis import (
        ArmData,
        ArmSummary,
        ExperimentResults,
        MetricResult,
        MetricSummary,
        analyze,
    )

_ANALYSIS_NAMES = frozenset(
    {"ArmData", "ArmSummary", "ExperimentResults", "MetricResult", "MetricSummary", "analyze"}
)


def __getattr__(name: str) -> object:
    if name in _ANALYSIS_NAMES:
        return getattr(import_module("rheostat.experiments.analysis"), name)
    raise AttributeError(f"module 'rheostat.experiments' has no attribute {name!r}")


__all__ = [
    "Arm",
    "ArmData",
    "ArmSummary",
    "Experiment",
    "ExperimentResults",
    "ExperimentStatus",
    "MetricKind",
    "MetricResult",
    "MetricSpec",
    "MetricSummary",
    "analyze",
    "assign",
    "assignment_document",
    "inclusion_flag_key",
]
