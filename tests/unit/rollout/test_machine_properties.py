"""Properties of ``decide`` over random ticks: the rules that guard production hold always."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from rheostat.rollout import (
    ApprovalStage,
    GateMode,
    GateVerdict,
    HoldbackGate,
    MonitorStage,
    OnFailure,
    Plan,
    RampStage,
    ThresholdGate,
    Verdict,
)
from rheostat.rollout.machine import decide
from rheostat.rollout.state import (
    Command,
    CommandKind,
    Observations,
    Phase,
    PlanState,
    SetExposure,
)

T0 = datetime(2026, 12, 7, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def _ramps(on_failure: OnFailure) -> Plan:
    """Ramps only, short bakes: exposure changes often, so a wrong rise shows quickly."""
    return Plan(
        name="ramps",
        flag="f",
        environment="e",
        stages=tuple(RampStage(percent=p, bake=5 * MINUTE) for p in (1, 5, 25, 50, 100)),
        gates=_plan(on_failure).gates,
        on_failure=on_failure,
    )


def _plan(on_failure: OnFailure) -> Plan:
    return Plan(
        name="p",
        flag="f",
        environment="e",
        stages=(
            RampStage(percent=1, bake=10 * MINUTE, holdback=True),
            ApprovalStage(),
            RampStage(percent=10, bake=10 * MINUTE, approval=True),
            MonitorStage(duration=30 * MINUTE),
            RampStage(percent=50, bake=10 * MINUTE),
            RampStage(percent=100),
            MonitorStage(duration=20 * MINUTE),
        ),
        gates=(
            HoldbackGate(name="errors", metric="e", mode=GateMode.ROLLBACK),
            ThresholdGate(name="p95", metric="p95", max_ratio=2, mode=GateMode.PAUSE),
            ThresholdGate(name="watch", metric="w", max=1, mode=GateMode.OBSERVE),
        ),
        on_failure=on_failure,
    )


# Mostly passing looks, as in real rollouts, so that plans get far before something breaks
verdicts = st.sampled_from([Verdict.PASS] * 6 + [v for v in Verdict if v is not Verdict.PASS])
safe_commands = st.sampled_from(
    [CommandKind.APPROVE, CommandKind.ADVANCE, CommandKind.PAUSE, CommandKind.START]
)
tick = st.tuples(
    st.integers(min_value=0, max_value=40),  # minutes since the last tick
    st.fixed_dictionaries({"errors": verdicts, "p95": verdicts, "watch": verdicts}),
    st.lists(safe_commands, max_size=2),
)
ticks = st.lists(tick, min_size=1, max_size=60)


def _observations(looks: dict[str, Verdict], commands: list[CommandKind]) -> Observations:
    return Observations(
        verdicts=tuple(GateVerdict(gate=g, verdict=v) for g, v in looks.items()),
        commands=tuple(Command(kind=c, actor="op") for c in commands),
    )


def _drive(plan: Plan, steps: list[tuple[int, dict[str, Verdict], list[CommandKind]]]) -> list:
    """Run the ticks; return (state before, observations, decision, now) for each."""
    state = decide(
        PlanState(plan=plan),
        Observations(commands=(Command(kind=CommandKind.START, actor="a"),)),
        T0,
    ).state
    now = T0
    history = []
    for minutes, looks, commands in steps:
        now += minutes * MINUTE
        observed = _observations(looks, commands)
        decision = decide(state, observed, now)
        history.append((state, observed, decision, now))
        state = decision.state
    return history


@settings(max_examples=300)
@given(steps=ticks, on_failure=st.sampled_from(list(OnFailure)))
def test_exposure_never_rises_after_a_failing_acting_gate(
    steps: list, on_failure: OnFailure
) -> None:
    # Given / When any ticks without a human resuming
    history = _drive(_ramps(on_failure), steps)

    # Then once an acting gate failed, no later action raises the exposure
    ceiling = None
    for before, observed, decision, _ in history:
        failed = any(
            v.verdict is Verdict.FAIL and v.gate in ("errors", "p95") for v in observed.verdicts
        ) and before.phase in (Phase.BAKING, Phase.RUNNING, Phase.AWAITING_APPROVAL)
        if failed and ceiling is None and before.exposure.percent > 0:
            ceiling = before.exposure.percent
        if ceiling is not None:
            for action in decision.actions:
                if isinstance(action, SetExposure):
                    assert action.exposure.percent <= ceiling
                    ceiling = action.exposure.percent


@settings(max_examples=300)
@given(steps=ticks)
def test_approvals_and_monitors_are_never_skipped(steps: list) -> None:
    plan = _plan(OnFailure.IMMEDIATE)
    history = _drive(plan, steps)
    monitor_started: dict[int, datetime] = {}
    for before, observed, decision, now in history:
        after = decision.state
        approved_now = any(c.kind is CommandKind.APPROVE for c in observed.commands)
        for index in range(before.stage, min(after.stage, len(plan.stages))):
            stage = plan.stages[index]
            needs = isinstance(stage, ApprovalStage) or (
                isinstance(stage, RampStage) and stage.approval
            )
            if needs:
                assert index in after.approved, f"stage {index} passed without approval"
                assert index in before.approved or approved_now
        if after.phase is Phase.BAKING and isinstance(plan.stages[after.stage], MonitorStage):
            monitor_started.setdefault(after.stage, after.stage_started_at or now)
        if after.stage > before.stage and after.phase is not Phase.ROLLED_BACK:
            stage = plan.stages[before.stage]
            if isinstance(stage, MonitorStage):
                assert now - monitor_started[before.stage] >= stage.duration


@settings(max_examples=300)
@given(steps=ticks, on_failure=st.sampled_from([OnFailure.IMMEDIATE, OnFailure.GRADUAL]))
def test_every_rollback_ends_at_exposure_zero(steps: list, on_failure: OnFailure) -> None:
    # Given any ticks, then a rollback command, then time passing with failing gates
    history = _drive(_plan(on_failure), steps)
    state = history[-1][2].state
    now = history[-1][3]
    rollback = Observations(commands=(Command(kind=CommandKind.ROLLBACK, actor="op"),))
    state = decide(state, rollback, now).state
    for _ in range(10):
        now += 10 * MINUTE
        state = decide(state, _observations({"errors": Verdict.FAIL}, []), now).state

    # Then a plan that rolled back (or was rolling back) ends at 0 %
    if state.phase is Phase.ROLLED_BACK:
        assert state.exposure.percent == 0
    assert state.phase is not Phase.ROLLING_BACK


@settings(max_examples=200)
@given(steps=ticks, on_failure=st.sampled_from(list(OnFailure)))
def test_decide_never_raises_and_phases_stay_consistent(steps: list, on_failure: OnFailure) -> None:
    for _, _, decision, _ in _drive(_plan(on_failure), steps):
        state = decision.state
        if state.phase is Phase.COMPLETED:
            assert state.exposure.percent == 100
        if state.phase is Phase.ROLLED_BACK:
            assert state.exposure.percent == 0
        assert 0 <= state.exposure.holdback_percent <= state.exposure.percent or (
            state.exposure.holdback_percent <= 100 - state.exposure.percent
        )
