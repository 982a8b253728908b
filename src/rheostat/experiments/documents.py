"""Experiment results as a JSON document: what is stored, served and printed with ``--json``.

The document is a pure function of the results, so a replay that sees the same data gives the
same document, byte for byte. Numbers are plain JSON numbers (never NaN or infinity: an open
interval end is ``null``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from rheostat.experiments.model import Experiment

if TYPE_CHECKING:
    from rheostat.experiments.analysis import (
        ArmSummary,
        ExperimentResults,
        MetricResult,
        MetricSummary,
    )
    from rheostat.stats import Comparison, SRMResult

__all__ = ["results_document"]


def results_document(
    environment: str, experiment: Experiment, results: ExperimentResults
) -> dict[str, Any]:
    """Return ``results`` of ``experiment`` as a JSON-ready document."""
    return {
        "environment": environment,
        "experiment": results.experiment,
        "at": results.at.isoformat(),
        "control": experiment.control.name,
        "valid": results.valid,
        "invalid_reasons": list(results.invalid_reasons),
        "significant": results.significant,
        "srm": _srm(results.srm),
        "arms": [_arm(arm) for arm in results.arms],
        "comparisons": [_comparison(experiment, result) for result in results.comparisons],
    }


def _srm(srm: SRMResult) -> dict[str, Any]:
    return {
        "chi2": _number(srm.chi2),
        "p_value": _number(srm.p_value),
        "mismatch": srm.mismatch,
        "reason": None if srm.reason is None else srm.reason.value,
    }


def _arm(arm: ArmSummary) -> dict[str, Any]:
    return {
        "name": arm.name,
        "units": arm.units,
        "commits": list(arm.commits),
        "metrics": {name: _summary(summary) for name, summary in arm.metrics.items()},
    }


def _summary(summary: MetricSummary) -> dict[str, Any]:
    return {
        "n": summary.n,
        "mean": _number(summary.mean),
        "ci_lower": _number(summary.ci_lower),
        "ci_upper": _number(summary.ci_upper),
    }


def _comparison(experiment: Experiment, result: MetricResult) -> dict[str, Any]:
    spec = experiment.metric(result.metric)
    return {
        "metric": result.metric,
        "arm": result.arm,
        "kind": spec.kind.value,
        "higher_is_better": spec.higher_is_better,
        "significant": result.significant,
        "improvement": _number(result.improvement),
        "absolute": _effect(result.absolute),
        "relative": _effect(result.relative),
    }


def _effect(comparison: Comparison) -> dict[str, Any]:
    return {
        "estimate": _number(comparison.estimate),
        "ci_lower": _number(comparison.ci_lower),
        "ci_upper": _number(comparison.ci_upper),
        "se": _number(comparison.se),
        "p_value": _number(comparison.p_value),
        "dof": _number(comparison.dof),
        "statistic": _number(comparison.statistic),
        "significance": comparison.significance.value,
        "reason": None if comparison.reason is None else comparison.reason.value,
        "relative": comparison.relative,
    }


def _number(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)
