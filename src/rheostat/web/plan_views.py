"""What the release-plan pages show: the stage timeline, events with their evidence, the
commands an operator may give now, and the treatment-vs-holdback series (pure)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rheostat.metrics import WindowKind, WindowTotals
from rheostat.rollout import (
    ApprovalStage,
    BackfillStage,
    CheckStage,
    MonitorStage,
    RampStage,
    WaitUntilStage,
)
from rheostat.rollout.looks import HOLDBACK, REST, TREATMENT
from rheostat.rollout.state import TERMINAL_PHASES, CommandKind, Phase, PlanState
from rheostat.rollout.verdicts import GateVerdict
from rheostat.service import PlanEvent
from rheostat.web.charts import Series

__all__ = [
    "BUCKETS",
    "EventRow",
    "GateRow",
    "StageRow",
    "available_commands",
    "bucket_edges",
    "event_rows",
    "gate_rows",
    "is_approved",
    "is_live",
    "metric_series",
    "stage_label",
    "stage_rows",
]

BUCKETS = 12
"""Points per line of a plan's metric chart."""

_COMMANDS: Mapping[Phase, tuple[CommandKind, ...]] = {
    Phase.PENDING: (CommandKind.START,),
    Phase.RUNNING: (CommandKind.PAUSE, CommandKind.ROLLBACK),
    Phase.BAKING: (CommandKind.PAUSE, CommandKind.ROLLBACK),
    Phase.AWAITING_APPROVAL: (CommandKind.APPROVE, CommandKind.PAUSE, CommandKind.ROLLBACK),
    Phase.PAUSED: (CommandKind.RESUME, CommandKind.ROLLBACK),
}
_TONE_BY_VARIANT = {TREATMENT: "treatment", HOLDBACK: "holdback", REST: "rest"}
_NAME_BY_VARIANT = {TREATMENT: "treatment", HOLDBACK: "holdback", REST: "everyone else"}


@dataclass(frozen=True, slots=True, kw_only=True)
class StageRow:
    """One stage on the timeline: ``status`` is ``done``, ``current``, ``next`` or ``undone``."""

    number: int
    label: str
    status: str


@dataclass(frozen=True, slots=True, kw_only=True)
class EventRow:
    """One transition with its evidence as ``(name, value)`` pairs."""

    at: str
    type: str
    stage: int
    message: str
    actor: str
    evidence: tuple[tuple[str, str], ...]
    verdict: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class GateRow:
    """The latest look at one gate."""

    gate: str
    verdict: str
    message: str
    evidence: tuple[tuple[str, str], ...]


def stage_label(stage: object) -> str:
    """A stage in a few words: ``ramp 5% · bake 1m · holdback``."""
    if isinstance(stage, RampStage):
        parts = [f"ramp {stage.percent:g}%"]
        if stage.bake:
            parts.append(f"bake {_duration(stage.bake)}")
        parts += [
            word for word, on in (("holdback", stage.holdback), ("approval", stage.approval)) if on
        ]
        return " · ".join(parts)
    if isinstance(stage, CheckStage):
        return "checks: " + ", ".join(stage.checks)
    if isinstance(stage, BackfillStage):
        return f"backfill {stage.job} · verify {stage.verify}"
    if isinstance(stage, ApprovalStage):
        return "approval" + (f": {stage.note}" if stage.note else "")
    if isinstance(stage, MonitorStage):
        return f"monitor {_duration(stage.duration)}"
    if isinstance(stage, WaitUntilStage):
        return f"wait until {stage.at:%Y-%m-%d %H:%M}"
    return type(stage).__name__


def stage_rows(state: PlanState) -> list[StageRow]:
    """Every stage of the plan with where the plan is."""
    rows = []
    for index, stage in enumerate(state.plan.stages):
        rows.append(
            StageRow(number=index + 1, label=stage_label(stage), status=_stage_status(state, index))
        )
    return rows


def _stage_status(state: PlanState, index: int) -> str:
    if state.phase in {Phase.ROLLED_BACK, Phase.ROLLING_BACK} and index <= state.stage:
        return "undone"
    if index < state.stage or state.phase is Phase.COMPLETED:
        return "done"
    if index == state.stage and state.phase is not Phase.PENDING:
        return "current"
    return "next"


def available_commands(state: PlanState) -> tuple[str, ...]:
    """The commands that make sense now (none once the plan has ended; no second approval
    of a stage approved, which the controller applies on its next pass)."""
    commands = _COMMANDS.get(state.phase, ())
    if is_approved(state):
        commands = tuple(c for c in commands if c is not CommandKind.APPROVE)
    return tuple(command.value for command in commands)


def is_approved(state: PlanState) -> bool:
    """Whether the stage that waits for approval got it (the controller has yet to act)."""
    return state.phase is Phase.AWAITING_APPROVAL and state.stage in state.approved


def is_live(phase: Phase) -> bool:
    """Whether the plan may still move (its page keeps refreshing)."""
    return phase not in TERMINAL_PHASES


def event_rows(events: Sequence[PlanEvent]) -> list[EventRow]:
    """Events newest first, their evidence flattened to readable pairs."""
    return [
        EventRow(
            at=event.at.strftime("%H:%M:%S"),
            type=event.type,
            stage=event.stage + 1,
            message=event.message,
            actor=event.actor,
            evidence=evidence_pairs(event.evidence),
            verdict=_text_or_none(event.evidence.get("verdict")),
        )
        for event in reversed(events)
    ]


def gate_rows(verdicts: Sequence[GateVerdict]) -> list[GateRow]:
    """The latest look at each gate, evidence flattened."""
    return [
        GateRow(
            gate=verdict.gate,
            verdict=verdict.verdict.value,
            message=verdict.message,
            evidence=evidence_pairs(verdict.evidence),
        )
        for verdict in verdicts
    ]


def evidence_pairs(evidence: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """``{"n": 3, "ci": [1, 2]}`` -> ``(("n", "3"), ("ci", "[1, 2]"))``; floats to 4 digits."""
    return tuple((str(name), _value_text(value)) for name, value in evidence.items())


def _value_text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str, sort_keys=True)


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def bucket_edges(start: datetime, end: datetime, count: int = BUCKETS) -> list[datetime]:
    """``count + 1`` moments splitting ``[start, end]`` into equal buckets."""
    span = max(end - start, timedelta(seconds=count))
    return [start + span * index / count for index in range(count + 1)]


def metric_series(
    start: datetime,
    buckets: Sequence[tuple[datetime, Mapping[tuple[str, WindowKind], WindowTotals]]],
    *,
    variants: Sequence[str] = (TREATMENT, HOLDBACK),
) -> list[Series]:
    """One line per variant: its mean (a rate, for a proportion) in each bucket that has data.

    Args:
        buckets: each bucket's end and the metric's totals per (variant, kind) in it.
    """
    lines = []
    for variant in variants:
        points = []
        for end, totals in buckets:
            merged = [value for (name, _), value in totals.items() if name == variant]
            n = sum(value.n for value in merged)
            if n:
                points.append(((end - start).total_seconds(), sum(v.sum for v in merged) / n))
        lines.append(
            Series(
                name=_NAME_BY_VARIANT.get(variant, variant),
                points=tuple(points),
                tone=_TONE_BY_VARIANT.get(variant, "rest"),
            )
        )
    return lines


def _duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
