"""The values of a release plan: stages, gates, policies. Pure and frozen.

A plan is what a team writes (ARCHITECTURE.md, "Release plan document"), validated whole by
``rheostat.rollout.plans``; these are the values it becomes. Durations are ``timedelta``,
moments aware ``datetime`` in UTC, percentages floats with at most three decimals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

__all__ = [
    "ApprovalStage",
    "BackfillStage",
    "CallableGate",
    "CheckGate",
    "CheckStage",
    "Gate",
    "GateLimits",
    "GateMode",
    "HoldbackGate",
    "HttpGate",
    "InconclusivePolicy",
    "MonitorStage",
    "NoDataPolicy",
    "OnFailure",
    "Plan",
    "RampStage",
    "Stage",
    "ThresholdGate",
    "WaitUntilStage",
]


class GateMode(StrEnum):
    """What a gate's failure does."""

    OBSERVE = "observe"
    """Recorded with its evidence, never acts: try a gate before trusting it."""
    PAUSE = "pause"
    """Holds the plan for a human (``rollout resume`` or ``rollback``)."""
    ROLLBACK = "rollback"
    """Rolls the change back as the plan's ``on_failure`` says."""


class OnFailure(StrEnum):
    """How a failing plan takes its exposure back."""

    IMMEDIATE = "immediate"
    """Everyone off at once (the kill switch)."""
    GRADUAL = "gradual"
    """Down in steps (75 -> 50 -> 25 -> 0 % of the exposure) with a bake between steps, for
    systems that cannot take all traffic back at once."""
    HOLD = "hold"
    """Keep the exposure and pause for a human."""


class NoDataPolicy(StrEnum):
    """What a gate that has had no data for longer than its grace period does."""

    HOLD = "hold"
    """The stage waits (and the plan pauses once the inconclusive deadline passes)."""
    ROLLBACK = "rollback"
    """Treated as a failure: no data is not evidence of health."""
    WARN = "warn"
    """An alert is raised and the gate does not block the stage."""


class InconclusivePolicy(StrEnum):
    """What a stage held by inconclusive verdicts past its deadline does."""

    PAUSE = "pause"
    ROLLBACK = "rollback"
    ADVANCE = "advance"


@dataclass(frozen=True, slots=True, kw_only=True)
class GateLimits:
    """How verdicts add up to a decision (Argo Rollouts' analysis semantics).

    Attributes:
        failure_limit: failing looks a gate may have in a stage before it fails the stage
            (0: the first failure fails it).
        error_limit: consecutive errors (a metric source that did not answer) that fail a
            gate; an error is never a pass.
        inconclusive_timeout: how long a stage may be held by inconclusive verdicts before
            ``inconclusive_policy`` applies.
        inconclusive_policy: what then.
        no_data_grace: how long a gate may see no data at all before ``no_data_policy``.
        no_data_policy: what then (never silently a pass, never silently a rollback).
        stale_after: no progress for this long raises a stale-plan alert.
    """

    failure_limit: int = 0
    error_limit: int = 4
    inconclusive_timeout: timedelta = timedelta(hours=1)
    inconclusive_policy: InconclusivePolicy = InconclusivePolicy.PAUSE
    no_data_grace: timedelta = timedelta(minutes=10)
    no_data_policy: NoDataPolicy = NoDataPolicy.HOLD
    stale_after: timedelta = timedelta(days=21)


# Stages -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckStage:
    """Run a pre-flight check suite; a failure stops the plan before any exposure."""

    checks: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class BackfillStage:
    """Run a backfill job; the stage passes only when its verify finds zero differences."""

    job: str
    verify: str = "checksum"


@dataclass(frozen=True, slots=True, kw_only=True)
class RampStage:
    """Serve the change to ``percent`` % (of everyone, or of ``segments``), then bake.

    Attributes:
        percent: exposure in this stage (3 decimals).
        bake: how long the gates must hold before the next stage.
        holdback: keep an equal-size concurrent control group (variant ``holdback``).
        approval: a human must approve before the stage is applied.
        segments: a ring: the exposure applies to members of these segments only (empty:
            everyone).
    """

    percent: float
    bake: timedelta = timedelta(0)
    holdback: bool = False
    approval: bool = False
    segments: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ApprovalStage:
    """Wait for a human's approval."""

    note: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MonitorStage:
    """Keep the exposure and watch the gates for ``duration``; never skipped."""

    duration: timedelta


@dataclass(frozen=True, slots=True, kw_only=True)
class WaitUntilStage:
    """Do nothing until ``at`` (a change window)."""

    at: datetime


Stage = CheckStage | BackfillStage | RampStage | ApprovalStage | MonitorStage | WaitUntilStage


# Gates ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ThresholdGate:
    """A metric against a limit: absolute (``max``/``min``), or relative to its baseline
    (``max_ratio=2`` is "p95 < 2x baseline": the value before the plan started).

    Attributes:
        quantile: judge this quantile of the metric's values (``0.95``: the p95, from the
            windows' quantile sketches) instead of their mean.
        source: where the metric comes from (``builtin`` metric windows, or ``prometheus``).
        query: the PromQL query for a Prometheus source.
        hard: a circuit breaker: its failure kills the flag at once, whatever the bake.
    """

    name: str
    metric: str
    mode: GateMode = GateMode.ROLLBACK
    max: float | None = None
    min: float | None = None
    max_ratio: float | None = None
    source: str = "builtin"
    query: str | None = None
    hard: bool = False
    quantile: float | None = None

    @property
    def measured(self) -> str:
        """What is judged, for messages: ``latency_ms``, or ``p95(latency_ms)``."""
        if self.quantile is None:
            return self.metric
        return f"p{100 * self.quantile:g}({self.metric})"


@dataclass(frozen=True, slots=True, kw_only=True)
class HoldbackGate:
    """Treatment against its concurrent holdback, with the always-valid sequential guard
    (``rheostat.stats.sequential_guard``), so looking after every interval stays honest."""

    name: str
    metric: str
    mode: GateMode = GateMode.ROLLBACK
    worse: str = "higher"
    tolerance: float = 0.0
    relative: bool = False
    alpha: float = 0.05
    min_n: int = 100
    hard: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckGate:
    """A pre-flight check suite run as a gate while any exposure is on.

    The controller runs the suite after a pass's tick, at most once per ``every`` (0: every
    pass), and stores it as a check run; each look judges the newest run of the stage.
    """

    name: str
    checks: tuple[str, ...]
    mode: GateMode = GateMode.PAUSE
    every: timedelta = timedelta(seconds=60)


@dataclass(frozen=True, slots=True, kw_only=True)
class CallableGate:
    """A Python callable (seed 001's ``validation_func(percentage)``), by import path."""

    name: str
    target: str
    mode: GateMode = GateMode.ROLLBACK
    timeout: timedelta = timedelta(seconds=10)


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpGate:
    """An HTTP probe: passes when the status is ``expect_status`` within ``timeout``."""

    name: str
    url: str
    mode: GateMode = GateMode.PAUSE
    expect_status: int = 200
    timeout: timedelta = timedelta(seconds=5)


Gate = ThresholdGate | HoldbackGate | CheckGate | CallableGate | HttpGate


# The plan ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """A release plan: one flag's way from dark to everyone, and back if it must.

    Attributes:
        name: the plan's key.
        flag: the bool flag it ramps. environment: where.
        stages: in order; each applied at its own exposure, none skipped.
        gates: judged at every look while any exposure is on.
        on_failure: how a failure takes the exposure back.
        gradual_steps: the shares of the exposure a gradual rollback steps down through.
        gradual_bake: the wait between gradual rollback steps.
        limits: how verdicts add up (failure and error limits, deadlines, no-data policy).
    """

    name: str
    flag: str
    environment: str
    stages: tuple[Stage, ...]
    gates: tuple[Gate, ...] = ()
    on_failure: OnFailure = OnFailure.IMMEDIATE
    gradual_steps: tuple[float, ...] = (75.0, 50.0, 25.0, 0.0)
    gradual_bake: timedelta = timedelta(minutes=5)
    limits: GateLimits = field(default_factory=GateLimits)

    def gate(self, name: str) -> Gate | None:
        """The gate called ``name``, or ``None``."""
        return next((gate for gate in self.gates if gate.name == name), None)
