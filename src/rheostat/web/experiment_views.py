"""What the experiment page shows, read from a results document (pure).

The document is the one the API serves (``rheostat.experiments.documents.results_document``):
arms with each metric's mean and confidence interval, comparisons against control with the
relative lift and its interval, the sample-ratio check and the validity verdict.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rheostat.web.charts import Interval

__all__ = [
    "ArmRow",
    "MetricCell",
    "ResultsView",
    "lift_intervals",
    "results_view",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricCell:
    """One metric in one arm: mean and interval, as text."""

    mean: str
    interval: str
    n: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ArmRow:
    """One arm of the per-arm table."""

    name: str
    is_control: bool
    units: int
    cells: tuple[MetricCell, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ResultsView:
    """The whole results section."""

    metrics: tuple[str, ...]
    arms: tuple[ArmRow, ...]
    valid: bool
    invalid_reasons: tuple[str, ...]
    significant: bool
    srm_warning: str | None
    lift: tuple[Interval, ...]
    at: str


def results_view(document: Mapping[str, Any]) -> ResultsView:
    """The view of a results document."""
    arms = document.get("arms") or []
    metrics = tuple(sorted({name for arm in arms for name in arm.get("metrics") or {}}))
    control = document.get("control")
    return ResultsView(
        metrics=metrics,
        arms=tuple(_arm_row(arm, metrics, control) for arm in arms),
        valid=bool(document.get("valid")),
        invalid_reasons=tuple(str(r) for r in document.get("invalid_reasons") or []),
        significant=bool(document.get("significant")),
        srm_warning=_srm_warning(document.get("srm") or {}),
        lift=tuple(lift_intervals(document.get("comparisons") or [])),
        at=str(document.get("at", ""))[:19].replace("T", " "),
    )


def _arm_row(arm: Mapping[str, Any], metrics: Sequence[str], control: Any) -> ArmRow:
    summaries = arm.get("metrics") or {}
    return ArmRow(
        name=str(arm.get("name")),
        is_control=arm.get("name") == control,
        units=int(arm.get("units") or 0),
        cells=tuple(_cell(summaries.get(metric) or {}) for metric in metrics),
    )


def _cell(summary: Mapping[str, Any]) -> MetricCell:
    mean, low, high = summary.get("mean"), summary.get("ci_lower"), summary.get("ci_upper")
    interval = "—" if low is None or high is None else f"[{low:.4g}, {high:.4g}]"
    return MetricCell(
        mean="—" if mean is None else f"{mean:.4g}", interval=interval, n=int(summary.get("n") or 0)
    )


def _srm_warning(srm: Mapping[str, Any]) -> str | None:
    if not srm.get("mismatch"):
        return None
    p_value = srm.get("p_value")
    shown = "n/a" if p_value is None else f"{p_value:.2g}"
    return (
        f"Sample ratio mismatch (p = {shown}): the arms did not get the traffic split they"
        " were configured for, so the comparisons cannot be trusted."
    )


def lift_intervals(comparisons: Sequence[Mapping[str, Any]]) -> list[Interval]:
    """Each comparison's relative lift and its interval (those that could be computed)."""
    rows = []
    for comparison in comparisons:
        relative = comparison.get("relative") or {}
        values = [relative.get(k) for k in ("estimate", "ci_lower", "ci_upper")]
        numbers = [float(value) for value in values if value is not None]
        if len(numbers) != len(values):
            continue
        estimate, low, high = numbers
        rows.append(
            Interval(
                label=f"{comparison.get('arm')} · {comparison.get('metric')}",
                estimate=estimate,
                low=low,
                high=high,
                verdict=_verdict(comparison),
            )
        )
    return rows


def _verdict(comparison: Mapping[str, Any]) -> str:
    improvement = comparison.get("improvement")
    if not comparison.get("significant") or improvement is None:
        return "unclear"
    return "better" if improvement > 0 else "worse"
