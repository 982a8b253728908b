"""The state of a running plan, what a tick observes, and the actions ``decide`` asks for.

All frozen values: the controller stores a ``PlanState``, gathers ``Observations`` (gate
verdicts, operators' commands, the outcome of a check or backfill stage), and carries out the
``Action`` values of the ``Decision`` in the same transaction as the new state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from rheostat.rollout.model import Plan
from rheostat.rollout.verdicts import GateVerdict

__all__ = [
    "STAGE_TALLY",
    "TERMINAL_PHASES",
    "Action",
    "Alert",
    "Command",
    "CommandKind",
    "Decision",
    "Exposure",
    "GateTally",
    "KillFlag",
    "Observations",
    "Phase",
    "PlanState",
    "RecordEvent",
    "RunStage",
    "SetExposure",
]


class Phase(StrEnum):
    """Where a plan is."""

    PENDING = "pending"
    """Written, not started."""
    RUNNING = "running"
    """Working on a stage that is not a bake (a check, a backfill, a wait)."""
    BAKING = "baking"
    """A ramp or monitor stage's exposure is applied; its gates are watched."""
    AWAITING_APPROVAL = "awaiting_approval"
    PAUSED = "paused"
    """Held for a human (a pause-mode gate, SRM, an inconclusive deadline, or a command)."""
    ROLLING_BACK = "rolling_back"
    """A gradual rollback is stepping down."""
    ROLLED_BACK = "rolled_back"
    COMPLETED = "completed"
    FAILED = "failed"
    """Stopped without exposure to take back (a failed check, or aborted)."""


TERMINAL_PHASES = frozenset({Phase.ROLLED_BACK, Phase.COMPLETED, Phase.FAILED})


@dataclass(frozen=True, slots=True, kw_only=True)
class Exposure:
    """Who gets the change: ``percent`` % of everyone (or of ``segments``), and an equal-size
    concurrent ``holdback_percent`` that is kept on the old behaviour and measured."""

    percent: float = 0.0
    holdback_percent: float = 0.0
    segments: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class GateTally:
    """One gate's count in the current stage (Argo's failure and consecutive-error counts).

    Attributes:
        failures: failing looks in this stage.
        consecutive_errors: errors in a row (a pass, fail or inconclusive look resets it).
        no_data_since: when the gate last started seeing no data (``None`` while it has data).
        warned: a no-data warning was raised for this stretch.
    """

    failures: int = 0
    consecutive_errors: int = 0
    no_data_since: datetime | None = None
    warned: bool = False


STAGE_TALLY = "@stage"
"""The ``tallies`` key of a check or backfill stage's own error count (not a gate's name:
gate names cannot start with ``@``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanState:
    """A plan and how far it got. Timestamps, not booleans: when it paused, when it began.

    Attributes:
        plan: frozen when the plan starts.
        stage: index of the current stage (``len(plan.stages)`` once completed).
        stage_started_at: when the current stage began (a ramp: when its exposure was applied).
        exposure: what is applied now.
        approved: the stages a human approved.
        resume_to: the phase a pause interrupted.
        held_since: when the current stage began waiting on inconclusive or missing data.
        rollback_from: the exposure a gradual rollback steps down from.
        rollback_step: the next gradual step to apply (index into ``plan.gradual_steps``).
        last_progress_at: the last transition; a plan without one for ``stale_after`` alerts.
        stale_alerted_at: when the stale alert was raised for the current stretch.
        message: why it stopped, paused or rolled back (human words).
    """

    plan: Plan
    phase: Phase = Phase.PENDING
    stage: int = 0
    stage_started_at: datetime | None = None
    exposure: Exposure = field(default_factory=Exposure)
    approved: frozenset[int] = frozenset()
    paused_at: datetime | None = None
    resume_to: Phase | None = None
    tallies: Mapping[str, GateTally] = field(default_factory=dict)
    held_since: datetime | None = None
    rollback_from: Exposure | None = None
    rollback_step: int = 0
    rollback_step_at: datetime | None = None
    last_progress_at: datetime | None = None
    stale_alerted_at: datetime | None = None
    message: str | None = None


class CommandKind(StrEnum):
    """What an operator asks for (CLI, HTTP, facade)."""

    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    APPROVE = "approve"
    ADVANCE = "advance"
    """End the current ramp's bake early (gates must not be failing); never skips an
    approval or a monitor stage."""
    ABORT = "abort"
    """Stop the plan and leave the flag as it is."""
    ROLLBACK = "rollback"


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    """An operator's command, with who and why (recorded in the plan's events)."""

    kind: CommandKind
    actor: str
    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Observations:
    """What one tick saw.

    Attributes:
        verdicts: the latest look at each gate.
        commands: operators' commands since the last tick, in order.
        stage_outcome: the result of the current check or backfill stage, once it ran.
        assignment: the sample-ratio check between treatment and holdback.
        looked: whether the gates were looked at. ``False`` for an operator's command between
            controller ticks: the command is applied, and gates and stages wait for the next
            look (so a command never counts as a gate without data).
    """

    verdicts: tuple[GateVerdict, ...] = ()
    commands: tuple[Command, ...] = ()
    stage_outcome: GateVerdict | None = None
    assignment: GateVerdict | None = None
    looked: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class SetExposure:
    """Apply this exposure to the plan's flag (a normal flag version with an audit event).

    Attributes:
        exposure: the exposure of the stage's audience (everyone, or a ring's segments).
        reason: why, for the flag's audit event.
        keep_other_audiences: keep what the plan serves other audiences (its earlier rings,
            or everyone's share under a later ring); ``False`` applies this exposure alone,
            as the plan's first ramp and every rollback do.
    """

    exposure: Exposure
    reason: str
    keep_other_audiences: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class KillFlag:
    """Turn the flag off for everyone now (the circuit breaker)."""

    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RunStage:
    """Run the current check suite or backfill; its outcome comes back as ``stage_outcome``."""

    stage: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordEvent:
    """Append to the plan's events (and the audit log): a transition with its evidence."""

    type: str
    stage: int
    message: str
    evidence: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Alert:
    """Tell people (webhooks, ``/health``): a stale plan, a gate without data, a rollback."""

    kind: str
    severity: str
    message: str


Action = SetExposure | KillFlag | RunStage | RecordEvent | Alert


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """The new state and what to do, in order; ``changed`` says whether to store anything."""

    state: PlanState
    actions: tuple[Action, ...] = ()

    @property
    def changed(self) -> bool:
        """Whether the tick changed the state or asked for anything."""
        return bool(self.actions)
