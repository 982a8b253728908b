"""``decide(state, observations, now) -> Decision``: one controller tick, purely.

The controller loads a ``PlanState``, looks at the gates, and calls ``decide``; the
``Decision`` holds the new state and the actions to carry out in the same transaction. No
clock, database or network here, so every rule below is tested with plain values:

* Stages run in order, each applied at its own exposure, none skipped. After controller
  downtime an overdue bake is not waited for again, but the next stage still gets a tick of
  its own (one stage advance per tick), and approvals and monitors are never skipped.
* A gate in ``rollback`` mode that fails rolls the change back as ``on_failure`` says (a
  ``hard`` one kills the flag at once, whatever the bake); in ``pause`` mode it holds the plan
  for a human; in ``observe`` mode it is recorded and never acts.
* A gate fails after more than ``failure_limit`` failing looks in a stage, or
  ``error_limit`` errors in a row. Inconclusive looks and missing data hold the stage; held
  past ``inconclusive_timeout`` the plan follows ``inconclusive_policy``. A gate without data
  for ``no_data_grace`` follows ``no_data_policy`` (hold, rollback or warn).
* A sample-ratio mismatch between treatment and holdback pauses the plan: the assignment is
  broken, not (necessarily) the change.
* Nothing raises exposure after a failing verdict; every rollback ends at exposure 0.
* Audiences are independent: a ramp keeps what earlier stages serve other audiences (a ring
  stays served while everyone ramps); the first ramp and every rollback apply theirs alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from rheostat.rollout.judging import assignment_broken, judge_gates, waiting_gates
from rheostat.rollout.model import (
    ApprovalStage,
    BackfillStage,
    CheckStage,
    InconclusivePolicy,
    MonitorStage,
    OnFailure,
    RampStage,
    Stage,
    WaitUntilStage,
)
from rheostat.rollout.state import (
    STAGE_TALLY,
    TERMINAL_PHASES,
    Alert,
    Command,
    CommandKind,
    Decision,
    Exposure,
    GateTally,
    Observations,
    Phase,
    PlanState,
    RunStage,
    SetExposure,
)
from rheostat.rollout.stopping import holdback_share, pause_plan, start_rollback, step_rollback
from rheostat.rollout.tick import Tick, exposure_evidence, iso
from rheostat.rollout.verdicts import GateVerdict, Verdict

__all__ = ["decide", "exposure_of", "holdback_share"]


def decide(state: PlanState, observations: Observations, now: datetime) -> Decision:
    """Return the state after one tick at ``now`` and the actions it asks for. Never raises
    for any observations; an unknown gate's verdict is ignored."""
    tick = Tick(state, now)
    if state.phase in TERMINAL_PHASES:
        return tick.decision()
    for command in observations.commands:
        if tick.state.phase not in TERMINAL_PHASES:
            _COMMANDS[command.kind](tick, command)
    if observations.looked and tick.state.phase not in (
        *TERMINAL_PHASES,
        Phase.PENDING,
        Phase.PAUSED,
    ):
        _step(tick, observations)
    _check_stale(tick)
    return tick.decision()


def exposure_of(stage: RampStage) -> Exposure:
    """The exposure a ramp stage applies."""
    holdback = holdback_share(stage.percent) if stage.holdback else 0.0
    return Exposure(percent=stage.percent, holdback_percent=holdback, segments=stage.segments)


# Commands ---------------------------------------------------------------------------------------


def _start(tick: Tick, command: Command) -> None:
    if tick.state.phase is Phase.PENDING:
        tick.progress(phase=Phase.RUNNING, stage=0, stage_started_at=None)
        tick.event("plan.started", f"started by {command.actor}", _who(command))


def _pause(tick: Tick, command: Command) -> None:
    if tick.state.phase not in (Phase.PAUSED, Phase.PENDING):
        pause_plan(tick, f"paused by {command.actor}", _who(command))


def _resume(tick: Tick, command: Command) -> None:
    state = tick.state
    if state.phase is not Phase.PAUSED:
        return
    resumed = state.resume_to or Phase.RUNNING
    restart = tick.now if resumed is Phase.BAKING else state.stage_started_at
    tick.progress(
        phase=resumed,
        resume_to=None,
        paused_at=None,
        tallies={},
        held_since=None,
        stage_started_at=restart,
        message=None,
    )
    tick.event("plan.resumed", f"resumed by {command.actor}; the bake starts again", _who(command))


def _approve(tick: Tick, command: Command) -> None:
    state = tick.state
    if state.phase is Phase.AWAITING_APPROVAL:
        tick.move(approved=state.approved | {state.stage})
        tick.event("stage.approved", f"approved by {command.actor}", _who(command))


def _advance(tick: Tick, command: Command) -> None:
    state = tick.state
    stage = _current(state)
    if state.phase is Phase.BAKING and isinstance(stage, RampStage):
        tick.move(stage_started_at=tick.now - stage.bake)
        tick.event("stage.bake_skipped", f"bake ended early by {command.actor}", _who(command))


def _abort(tick: Tick, command: Command) -> None:
    tick.progress(phase=Phase.FAILED, message=f"aborted by {command.actor}")
    tick.event("plan.aborted", f"aborted by {command.actor}; the flag is left as it is")


def _rollback_command(tick: Tick, command: Command) -> None:
    kind = tick.state.plan.on_failure
    start_rollback(
        tick,
        f"rollback requested by {command.actor}",
        _who(command),
        OnFailure.IMMEDIATE if kind is OnFailure.HOLD else kind,
    )


_COMMANDS: Mapping[CommandKind, Callable[[Tick, Command], None]] = {
    CommandKind.START: _start,
    CommandKind.PAUSE: _pause,
    CommandKind.RESUME: _resume,
    CommandKind.APPROVE: _approve,
    CommandKind.ADVANCE: _advance,
    CommandKind.ABORT: _abort,
    CommandKind.ROLLBACK: _rollback_command,
}


def _who(command: Command) -> dict[str, Any]:
    return {"actor": command.actor, "reason": command.reason}


# One step -------------------------------------------------------------------------------------


def _step(tick: Tick, observations: Observations) -> None:
    if tick.state.phase is Phase.ROLLING_BACK:
        step_rollback(tick)
        return
    if tick.state.exposure.percent > 0 and judge_gates(tick, observations):
        return
    if assignment_broken(tick, observations.assignment):
        return
    _step_stage(tick, observations)


def _current(state: PlanState) -> Stage | None:
    stages = state.plan.stages
    return stages[state.stage] if state.stage < len(stages) else None


def _step_stage(tick: Tick, observations: Observations) -> None:
    stage = _current(tick.state)
    if stage is None:
        _complete(tick)
    elif tick.state.phase is Phase.BAKING:
        _bake(tick, stage, observations)
    elif isinstance(stage, CheckStage | BackfillStage):
        _run_stage(tick, observations.stage_outcome)
    else:
        _enter(tick, stage)


def _enter(tick: Tick, stage: Stage) -> None:
    """Begin ``stage`` (a ramp, monitor, approval or wait), unless it must wait first."""
    state = tick.state
    needs_approval = isinstance(stage, ApprovalStage) or (
        isinstance(stage, RampStage) and stage.approval
    )
    if needs_approval and state.stage not in state.approved:
        if state.phase is not Phase.AWAITING_APPROVAL:
            tick.progress(phase=Phase.AWAITING_APPROVAL)
            tick.event("stage.awaiting_approval", f"stage {state.stage + 1} waits for approval")
        return
    if isinstance(stage, RampStage):
        _apply_ramp(tick, stage)
    elif isinstance(stage, MonitorStage):
        tick.progress(phase=Phase.BAKING, stage_started_at=tick.now, tallies={}, held_since=None)
        tick.event("stage.started", f"monitoring for {stage.duration}")
    elif isinstance(stage, WaitUntilStage):
        if tick.now >= stage.at:
            _next_stage(tick, "the wait is over")
    else:
        _next_stage(tick, "approved")


def _apply_ramp(tick: Tick, stage: RampStage) -> None:
    exposure = exposure_of(stage)
    where = f" of {', '.join(stage.segments)}" if stage.segments else ""
    reason = f"{tick.state.plan.name}: stage {tick.state.stage + 1}, {stage.percent:g}%{where}"
    # Audiences are independent (a plan never lowers one): a ring stays served while later
    # stages ramp everyone or another ring. The first ramp resets what was there before.
    earlier = tick.state.plan.stages[: tick.state.stage]
    keep = any(isinstance(each, RampStage) for each in earlier)
    tick.actions.append(SetExposure(exposure=exposure, reason=reason, keep_other_audiences=keep))
    tick.progress(
        phase=Phase.BAKING,
        exposure=exposure,
        stage_started_at=tick.now,
        tallies={},
        held_since=None,
    )
    tick.event("stage.started", reason, exposure_evidence(exposure))


def _bake(tick: Tick, stage: Stage, observations: Observations) -> None:
    waiting = waiting_gates(tick, observations)
    if waiting:
        _hold(tick, f"waiting for gates {', '.join(waiting)}")
        return
    tick.move(held_since=None)
    state = tick.state
    duration = _duration(stage)
    if state.stage_started_at is not None and tick.now - state.stage_started_at >= duration:
        _next_stage(tick, "the gates held for the whole bake")


def _duration(stage: Stage) -> timedelta:
    if isinstance(stage, RampStage):
        return stage.bake
    if isinstance(stage, MonitorStage):
        return stage.duration
    return timedelta(0)


def _run_stage(tick: Tick, outcome: GateVerdict | None) -> None:
    """A check or backfill stage: ask for it once, then act on its outcome."""
    state = tick.state
    if outcome is None:
        if state.stage_started_at is None:
            tick.actions.append(RunStage(stage=state.stage))
            tick.progress(phase=Phase.RUNNING, stage_started_at=tick.now)
            tick.event("stage.started", f"stage {state.stage + 1} runs")
        return
    if outcome.verdict is Verdict.PASS:
        _next_stage(tick, outcome.message or "passed", dict(outcome.evidence))
    elif outcome.verdict is Verdict.FAIL:
        _fail_stage(tick, outcome)
    elif outcome.verdict is Verdict.ERROR:
        _stage_error(tick, outcome)
    else:
        _hold(
            tick,
            outcome.message or "the stage's outcome is not known yet",
            active_at=_active_at(outcome),
        )


def _stage_error(tick: Tick, outcome: GateVerdict) -> None:
    """A stage whose work could not run (a backfill's verify that raised): counted like a
    gate's errors, and the stage fails at the plan's ``error_limit`` error looks. Until then
    it holds (its work may be run again: a transient error heals). Inconclusive looks in
    between (the work running again) do not reset the count; the stage's end does."""
    state = tick.state
    errors = state.tallies.get(STAGE_TALLY, GateTally()).consecutive_errors + 1
    limit = state.plan.limits.error_limit
    if errors >= limit:
        evidence = {**outcome.evidence, "consecutive_errors": errors, "error_limit": limit}
        _fail_stage(
            tick,
            GateVerdict(
                gate=outcome.gate,
                verdict=outcome.verdict,
                message=outcome.message,
                evidence=evidence,
            ),
        )
        return
    tick.move(tallies={**state.tallies, STAGE_TALLY: GateTally(consecutive_errors=errors)})
    _hold(tick, f"{outcome.message} (error {errors} of {limit})")


def _active_at(outcome: GateVerdict) -> datetime | None:
    """When the stage's own work last moved (``active_at`` evidence: a backfill's last
    committed batch, or its end): an inconclusive deadline counts from there, so a copy that
    takes hours holds its stage without being called inconclusive."""
    raw = outcome.evidence.get("active_at")
    if not isinstance(raw, str):
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _fail_stage(tick: Tick, outcome: GateVerdict) -> None:
    message = f"stage {tick.state.stage + 1} failed: {outcome.message}"
    if tick.state.exposure.percent > 0:
        start_rollback(tick, message, dict(outcome.evidence), tick.state.plan.on_failure)
        return
    tick.progress(phase=Phase.FAILED, message=message)
    tick.event("plan.failed", message, dict(outcome.evidence))


def _next_stage(tick: Tick, why: str, evidence: Mapping[str, Any] | None = None) -> None:
    state = tick.state
    tick.event("stage.completed", f"stage {state.stage + 1} completed: {why}", evidence)
    tick.progress(
        phase=Phase.RUNNING,
        stage=state.stage + 1,
        stage_started_at=None,
        tallies={},
        held_since=None,
    )
    following = _current(tick.state)
    if following is None:
        _complete(tick)
    elif not isinstance(following, CheckStage | BackfillStage):
        _enter(tick, following)


def _complete(tick: Tick) -> None:
    tick.progress(phase=Phase.COMPLETED, stage=len(tick.state.plan.stages), message=None)
    tick.event("plan.completed", "every stage passed")


def _hold(tick: Tick, why: str, *, active_at: datetime | None = None) -> None:
    """Keep the stage; past the inconclusive deadline (counted from ``active_at`` when the
    stage's work moved since it was held), follow the plan's policy. A check or backfill
    stage is never advanced past: ``advance`` pauses it instead (its checks did not pass, its
    copy is not proved); ``advance`` is for gates that could not decide."""
    state = tick.state
    if state.held_since is None:
        tick.move(held_since=tick.now)
        tick.event("stage.held", why)
        return
    limits = state.plan.limits
    held = state.held_since if active_at is None else max(state.held_since, active_at)
    if tick.now - held < limits.inconclusive_timeout:
        return
    evidence = {"held_since": iso(state.held_since), "why": why}
    policy = limits.inconclusive_policy
    if policy is InconclusivePolicy.ADVANCE and isinstance(
        _current(state), BackfillStage | CheckStage
    ):
        policy = InconclusivePolicy.PAUSE
    if policy is InconclusivePolicy.PAUSE:
        pause_plan(tick, f"held past the deadline: {why}", evidence)
    elif policy is InconclusivePolicy.ROLLBACK:
        start_rollback(tick, f"held past the deadline: {why}", evidence, state.plan.on_failure)
    elif not isinstance(_current(state), MonitorStage) or _monitor_done(state, tick.now):
        _next_stage(tick, f"advanced past the deadline although {why}", evidence)


def _monitor_done(state: PlanState, now: datetime) -> bool:
    stage = _current(state)
    started = state.stage_started_at
    return (
        isinstance(stage, MonitorStage) and started is not None and now - started >= stage.duration
    )


# Stale plans ----------------------------------------------------------------------------------


def _check_stale(tick: Tick) -> None:
    state = tick.state
    if state.phase in TERMINAL_PHASES or state.last_progress_at is None:
        return
    if state.stale_alerted_at is not None:
        return
    if tick.now - state.last_progress_at < state.plan.limits.stale_after:
        return
    message = f"plan {state.plan.name} has made no progress since {iso(state.last_progress_at)}"
    tick.actions.append(Alert(kind="plan.stale", severity="warning", message=message))
    tick.move(stale_alerted_at=tick.now)
