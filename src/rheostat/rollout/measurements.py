"""What the gates judge: measurements and outcomes, as metric providers and runners return them.

Providers and runners do the I/O (a metric query, a check suite, an HTTP probe) elsewhere; a
failure comes back as a value carrying ``error``, never as an exception, and ``rollout.gates``
turns it into an ``error`` verdict (counted against the plan's error limit, never a pass).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rheostat.stats import ProportionStats, SampleStats

__all__ = ["ArmMeasurement", "ArmStats", "Measurement", "Outcome"]

ArmStats = SampleStats | ProportionStats
"""One arm's sufficient statistics: ``SampleStats`` for a mean, ``ProportionStats`` for a rate."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Measurement:
    """One metric's value over a window, for a threshold gate (or its baseline).

    Attributes:
        metric: the metric's name (``http_errors``, ``p95_latency_ms``).
        value: the value; ``None`` when the window held nothing to measure.
        n: units (or requests, for a Prometheus query) behind ``value``; 0 when none.
        at: when it was measured (aware, UTC).
        error: why the source failed to answer (timeout, bad query); ``None`` when it answered.
    """

    metric: str
    value: float | None
    n: int
    at: datetime
    error: str | None = None

    @classmethod
    def failed(cls, metric: str, error: str, *, at: datetime) -> Measurement:
        """A source that did not answer: no value, and why."""
        return cls(metric=metric, value=None, n=0, at=at, error=error)

    @property
    def has_data(self) -> bool:
        """Whether there is a value to judge: answered, with a value and at least one unit."""
        return self.error is None and self.value is not None and self.n > 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ArmMeasurement:
    """One arm (treatment or holdback) of a holdback gate's metric, cumulative since the start.

    Attributes:
        metric: the metric's name.
        stats: the arm's sufficient statistics (per unit, over units that reported the metric).
        units: units assigned to the arm (exposures), for the sample-ratio check; may exceed
            ``stats.n`` when some units have not reported the metric.
        at: when it was measured (aware, UTC).
        error: why the source failed to answer; ``None`` when it answered.
    """

    metric: str
    stats: ArmStats
    units: int
    at: datetime
    error: str | None = None

    @classmethod
    def failed(
        cls, metric: str, error: str, *, at: datetime, stats: ArmStats | None = None
    ) -> ArmMeasurement:
        """A source that did not answer (``stats`` only gives the arm's kind; it is not read)."""
        return cls(metric=metric, stats=stats or ProportionStats(0, 0), units=0, at=at, error=error)


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """What a check suite, Python callable or HTTP probe said at one look.

    Attributes:
        ok: whether it passed; ``None`` when it has not run yet (no data).
        at: when it ran (aware, UTC).
        error: why it could not run or answer (timeout, exception, connection refused); an
            error is not a failure of the change, but never a pass either.
        detail: JSON-ready facts from the runner (status code, latency, failing checks).
    """

    ok: bool | None
    at: datetime
    error: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)
