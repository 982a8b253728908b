"""Experiment results from per-arm sufficient statistics: pure, replayable, honest.

Each treatment arm is compared with the control on every metric (absolute difference and
relative lift, ``rheostat.stats``); sample-ratio mismatch is tested on exposed units. A result is
``valid`` only when the arms ran the same commit, the split held, and there were enough data;
``significant`` is claimed only for a valid result.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from statistics import NormalDist

from rheostat.experiments.model import Experiment, MetricKind, MetricSpec
from rheostat.stats import (
    Comparison,
    ProportionStats,
    SampleStats,
    Significance,
    SRMResult,
    compare_means,
    compare_proportions,
    srm_test,
)

__all__ = ["ArmData", "ArmSummary", "ExperimentResults", "MetricResult", "MetricSummary", "analyze"]

Stats = SampleStats | ProportionStats
_THIN_DATA = frozenset({"too_few_units", "too_few_events", "no_units", "low_expected_count"})


@dataclass(frozen=True, slots=True, kw_only=True)
class ArmData:
    """What was observed in one arm: exposed units, metric statistics, commits served."""

    name: str
    units: int = 0
    metrics: Mapping[str, Stats] = field(default_factory=dict)
    commits: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricSummary:
    """One metric in one arm: n, mean and its (normal) confidence interval."""

    n: int
    mean: float | None
    ci_lower: float | None
    ci_upper: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ArmSummary:
    """One arm's units and metric summaries."""

    name: str
    units: int
    metrics: Mapping[str, MetricSummary]
    commits: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricResult:
    """Treatment arm against control on one metric.

    ``improvement`` is the relative lift signed so that positive is better for the metric's
    direction (lower latency is an improvement); None when the lift could not be computed.
    """

    metric: str
    arm: str
    absolute: Comparison
    relative: Comparison
    improvement: float | None

    @property
    def significant(self) -> bool:
        """Whether the absolute difference is significant at the experiment's alpha."""
        return self.absolute.significance is Significance.SIGNIFICANT


@dataclass(frozen=True, slots=True, kw_only=True)
class ExperimentResults:
    """Everything ``get_test_results`` reports, computed from stored statistics at ``at``."""

    experiment: str
    at: datetime
    arms: tuple[ArmSummary, ...]
    comparisons: tuple[MetricResult, ...]
    srm: SRMResult
    invalid_reasons: tuple[str, ...]

    @property
    def valid(self) -> bool:
        """True when nothing undermines the comparison (commits, split, data)."""
        return not self.invalid_reasons

    @property
    def significant(self) -> bool:
        """True when the result is valid and some metric differs significantly."""
        return self.valid and any(result.significant for result in self.comparisons)

    def mean_of(self, arm: str, metric: str) -> float | None:
        """Return ``metric``'s mean in ``arm``."""
        for summary in self.arms:
            if summary.name == arm and metric in summary.metrics:
                return summary.metrics[metric].mean
        return None


def analyze(
    experiment: Experiment, arms: Mapping[str, ArmData], *, at: datetime
) -> ExperimentResults:
    """Compare every treatment arm with the control on every observed metric."""
    data = [arms.get(arm.name, ArmData(name=arm.name)) for arm in experiment.arms]
    control = data[0]
    metric_names = sorted({name for arm in data for name in arm.metrics})
    comparisons = tuple(
        _compare(experiment.metric(name), control, treatment, alpha=experiment.alpha)
        for treatment in data[1:]
        for name in metric_names
    )
    srm = srm_test([arm.units for arm in data], [arm.weight_percent for arm in experiment.arms])
    return ExperimentResults(
        experiment=experiment.key,
        at=at,
        arms=tuple(_summarise(arm, experiment.alpha) for arm in data),
        comparisons=comparisons,
        srm=srm,
        invalid_reasons=_invalid_reasons(data, comparisons, srm),
    )


def _compare(
    spec: MetricSpec, control: ArmData, treatment: ArmData, *, alpha: float
) -> MetricResult:
    compare = compare_proportions if spec.kind is MetricKind.PROPORTION else compare_means
    before = control.metrics.get(spec.name) or _empty(spec)
    after = treatment.metrics.get(spec.name) or _empty(spec)
    absolute = compare(before, after, alpha=alpha)  # type: ignore[arg-type]
    relative = compare(before, after, alpha=alpha, relative=True)  # type: ignore[arg-type]
    lift = relative.estimate if relative.relative else None
    improvement = None if lift is None else (lift if spec.higher_is_better else -lift)
    return MetricResult(
        metric=spec.name, arm=treatment.name, absolute=absolute, relative=relative,
        improvement=improvement,
    )  # fmt: skip


def _empty(spec: MetricSpec) -> Stats:
    if spec.kind is MetricKind.PROPORTION:
        return ProportionStats(n=0, successes=0)
    return SampleStats(n=0, sum=0.0, sum_squares=0.0)


def _summarise(arm: ArmData, alpha: float) -> ArmSummary:
    quantile = NormalDist().inv_cdf(1 - alpha / 2)
    return ArmSummary(
        name=arm.name,
        units=arm.units,
        metrics={name: _summary(stats, quantile) for name, stats in sorted(arm.metrics.items())},
        commits=tuple(sorted(arm.commits)),
    )


def _summary(stats: Stats, quantile: float) -> MetricSummary:
    mean, variance = stats.mean, stats.variance
    if mean is None or variance is None or stats.n < 2:  # a variance needs two
        return MetricSummary(n=stats.n, mean=mean, ci_lower=None, ci_upper=None)
    half_width = quantile * math.sqrt(variance / stats.n)
    return MetricSummary(
        n=stats.n, mean=mean, ci_lower=mean - half_width, ci_upper=mean + half_width
    )


def _invalid_reasons(
    data: list[ArmData], comparisons: tuple[MetricResult, ...], srm: SRMResult
) -> tuple[str, ...]:
    reasons = []
    commits = [arm.commits for arm in data if arm.commits]
    if len({frozenset(c) for c in commits}) > 1:
        reasons.append("arms_on_different_commits")
    if srm.mismatch:
        reasons.append("sample_ratio_mismatch")
    thin = [result for result in comparisons if (result.absolute.reason or "") in _THIN_DATA]
    if thin or not comparisons or sum(arm.units for arm in data) == 0:
        reasons.append("too_little_data")
    return tuple(reasons)
