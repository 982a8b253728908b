"""Experiments: arms assigned by the flag engine, results from sufficient statistics (pure)."""

from rheostat.experiments.analysis import (
    ArmData,
    ArmSummary,
    ExperimentResults,
    MetricResult,
    MetricSummary,
    analyze,
)
from rheostat.experiments.assignment import assign, assignment_document, inclusion_flag_key
from rheostat.experiments.model import Arm, Experiment, ExperimentStatus, MetricKind, MetricSpec

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
