"""Stopping a plan: a pause for a human, or a rollback (immediate, or gradual in steps).

Every rollback ends at exposure 0 (the plan's safe state); a gradual one steps down through
``plan.gradual_steps`` shares of the exposure it started from, ``plan.gradual_bake`` apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from rheostat.rollout.model import OnFailure
from rheostat.rollout.state import Alert, Exposure, Phase, SetExposure
from rheostat.rollout.tick import Tick, exposure_evidence

__all__ = ["holdback_share", "pause_plan", "roll_back_to_zero", "start_rollback", "step_rollback"]

_PERCENT = 100.0


def holdback_share(percent: float) -> float:
    """The holdback that goes with ``percent`` % of treatment: as large, room permitting."""
    return round(min(percent, _PERCENT - percent), 3)


def pause_plan(tick: Tick, message: str, evidence: Mapping[str, Any]) -> None:
    state = tick.state
    tick.progress(phase=Phase.PAUSED, resume_to=state.phase, paused_at=tick.now, message=message)
    tick.event("plan.paused", message, evidence)
    tick.actions.append(Alert(kind="plan.paused", severity="warning", message=message))


def start_rollback(tick: Tick, message: str, evidence: Mapping[str, Any], kind: OnFailure) -> None:
    state = tick.state
    if kind is OnFailure.HOLD:
        pause_plan(tick, f"{message}; holding for a human (on_failure: hold)", evidence)
        return
    tick.event("plan.rolling_back", message, evidence)
    tick.actions.append(Alert(kind="plan.rollback", severity="critical", message=message))
    if kind is OnFailure.IMMEDIATE or state.exposure.percent <= 0:
        roll_back_to_zero(tick, message)
        return
    tick.progress(
        phase=Phase.ROLLING_BACK, rollback_from=state.exposure, rollback_step=0, message=message
    )
    _apply_rollback_step(tick)


def step_rollback(tick: Tick) -> None:
    state = tick.state
    due = state.rollback_step_at is None or (
        tick.now - state.rollback_step_at >= state.plan.gradual_bake
    )
    if due:
        _apply_rollback_step(tick)


def _apply_rollback_step(tick: Tick) -> None:
    state = tick.state
    steps = state.plan.gradual_steps
    start = state.rollback_from or state.exposure
    if state.rollback_step >= len(steps) or steps[state.rollback_step] <= 0:
        roll_back_to_zero(tick, state.message or "rolled back")
        return
    share = steps[state.rollback_step] / _PERCENT
    percent = round(start.percent * share, 3)
    exposure = replace(
        start,
        percent=percent,
        holdback_percent=holdback_share(percent) if start.holdback_percent else 0.0,
    )
    tick.actions.append(SetExposure(exposure=exposure, reason=f"gradual rollback to {percent:g}%"))
    tick.progress(
        exposure=exposure, rollback_step=state.rollback_step + 1, rollback_step_at=tick.now
    )
    tick.event("rollback.step", f"stepped down to {percent:g}%", exposure_evidence(exposure))


def roll_back_to_zero(tick: Tick, message: str) -> None:
    safe = Exposure(segments=tick.state.exposure.segments)
    tick.actions.append(SetExposure(exposure=safe, reason=f"rollback: {message}"))
    tick.progress(phase=Phase.ROLLED_BACK, exposure=safe, message=message)
    tick.event("plan.rolled_back", message)
