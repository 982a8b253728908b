"""What an experiment is: arms, the traffic it covers, the metrics it compares."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from rheostat.errors import ValidationError

__all__ = ["Arm", "Experiment", "ExperimentStatus", "MetricKind", "MetricSpec"]

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,119}$")


class ExperimentStatus(StrEnum):
    """Where an experiment is in its life."""

    DRAFT = "draft"
    RUNNING = "running"
    STOPPED = "stopped"


class MetricKind(StrEnum):
    """How a metric is summarised per unit."""

    MEAN = "mean"  # a number per event or unit (latency, accuracy): Welch t-test
    PROPORTION = "proportion"  # 0/1 per unit (converted, saw an error): two-proportion z-test


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricSpec:
    """A tracked metric and which direction is good."""

    name: str
    kind: MetricKind = MetricKind.MEAN
    higher_is_better: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Arm:
    """One arm; ``component`` says what it runs (seed 001's control/treatment component)."""

    name: str
    weight_percent: float
    component: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Experiment:
    """An A/B test: the first arm is the control.

    ``coverage_percent`` is the share of all units that enter the experiment. Raising it adds
    units and never moves anyone already assigned: inclusion and arm use independent hashes.
    """

    key: str
    arms: tuple[Arm, ...]
    metrics: tuple[MetricSpec, ...] = ()
    description: str = ""
    coverage_percent: float = 100.0
    alpha: float = 0.05
    duration_days: float | None = None
    status: ExperimentStatus = ExperimentStatus.DRAFT
    created_at: datetime | None = None
    started_at: datetime | None = None
    stopped_at: datetime | None = None
    version: int = 0

    def __post_init__(self) -> None:
        _check_key(self.key)
        _check_arms(self.arms)
        if not 0 <= self.coverage_percent <= 100:  # percent bounds
            raise ValidationError(
                f"coverage_percent must be within 0..100, got {self.coverage_percent}"
            )
        if not 0 < self.alpha < 0.5:  # STATS.md: alpha in (0, 0.5)
            raise ValidationError(f"alpha must be within (0, 0.5), got {self.alpha}")

    @property
    def control(self) -> Arm:
        """The control arm (the first)."""
        return self.arms[0]

    @property
    def flag_key(self) -> str:
        """The flag that assigns arms."""
        return f"experiment.{self.key}"

    def metric(self, name: str) -> MetricSpec:
        """Return the spec of ``name``; an untracked metric is a mean where higher is better."""
        for spec in self.metrics:
            if spec.name == name:
                return spec
        return MetricSpec(name=name)


def _check_key(key: str) -> None:
    if not _KEY.match(key):
        raise ValidationError(
            f"experiment key {key!r} must be 1-120 characters of letters, digits, '_.:-'",
            details={"field": "key"},
        )


def _check_arms(arms: tuple[Arm, ...]) -> None:
    if len(arms) < 2:  # a comparison needs two arms
        raise ValidationError("an experiment needs at least two arms", details={"field": "arms"})
    names = [arm.name for arm in arms]
    if len(set(names)) != len(names):
        raise ValidationError(f"arm names must be unique, got {names}", details={"field": "arms"})
    total = round(sum(arm.weight_percent * 1000 for arm in arms))
    if total != 100_000 or any(arm.weight_percent < 0 for arm in arms):
        raise ValidationError(
            f"arm weights must be >= 0 and sum to 100, got {[a.weight_percent for a in arms]}",
            details={"field": "arms"},
        )
