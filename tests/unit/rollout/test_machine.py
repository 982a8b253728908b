"""``decide``: one tick at a time, on plain values, with a clock that only moves when told."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rheostat.rollout import (
    ApprovalStage,
    CheckStage,
    GateLimits,
    GateMode,
    GateVerdict,
    HoldbackGate,
    InconclusivePolicy,
    MonitorStage,
    NoDataPolicy,
    OnFailure,
    Plan,
    RampStage,
    ThresholdGate,
    Verdict,
    WaitUntilStage,
)
from rheostat.rollout.machine import decide
from rheostat.rollout.state import (
    Alert,
    Command,
    CommandKind,
    Decision,
    Exposure,
    KillFlag,
    Observations,
    Phase,
    PlanState,
    RecordEvent,
    RunStage,
    SetExposure,
)

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
ERRORS = HoldbackGate(name="errors", metric="http_errors", mode=GateMode.ROLLBACK)
CANARY = Plan(
    name="search",
    flag="hybrid_search",
    environment="production",
    stages=(
        RampStage(percent=1, bake=30 * MINUTE, holdback=True),
        RampStage(percent=5, bake=30 * MINUTE, holdback=True),
        RampStage(percent=50, bake=30 * MINUTE, approval=True),
        RampStage(percent=100),
        MonitorStage(duration=60 * MINUTE),
    ),
    gates=(ERRORS,),
)
START = Observations(commands=(Command(kind=CommandKind.START, actor="alice"),))


def looks(verdict: Verdict, gate: str = "errors") -> Observations:
    return Observations(verdicts=(GateVerdict(gate=gate, verdict=verdict),))


def exposures(decision: Decision) -> list[float]:
    return [a.exposure.percent for a in decision.actions if isinstance(a, SetExposure)]


def run(
    plan: Plan, ticks: list[tuple[timedelta, Observations]]
) -> tuple[PlanState, list[Decision]]:
    state = PlanState(plan=plan)
    decisions = []
    for offset, observed in ticks:
        decision = decide(state, observed, T0 + offset)
        decisions.append(decision)
        state = decision.state
    return state, decisions


def test_start_applies_the_first_stage_with_an_equal_holdback() -> None:
    # Given a pending canary / When it is started
    decision = decide(PlanState(plan=CANARY), START, T0)

    # Then stage 1 is applied at 1 % with a 1 % holdback, and the bake begins
    assert decision.state.phase is Phase.BAKING
    assert decision.state.exposure == Exposure(percent=1, holdback_percent=1)
    assert exposures(decision) == [1]
    assert decision.state.stage_started_at == T0
    assert [a.type for a in decision.actions if isinstance(a, RecordEvent)] == [
        "plan.started",
        "stage.started",
    ]


def test_a_healthy_canary_advances_through_every_stage_and_waits_for_approval() -> None:
    # Given a started canary with a passing gate at every look
    state, _ = run(CANARY, [(timedelta(0), START)])
    passing = looks(Verdict.PASS)

    # When the bake of stages 1 and 2 passes
    state = decide(state, passing, T0 + 30 * MINUTE).state
    assert (state.phase, state.exposure.percent) == (Phase.BAKING, 5)
    state = decide(state, passing, T0 + 60 * MINUTE).state

    # Then stage 3 (50 %) waits for approval, with the exposure still at 5 %
    assert state.phase is Phase.AWAITING_APPROVAL
    assert state.exposure.percent == 5
    assert decide(state, passing, T0 + 600 * MINUTE).state.phase is Phase.AWAITING_APPROVAL

    # When a human approves, it applies; then 100 %, then the hour of monitoring
    approve = Observations(
        verdicts=passing.verdicts, commands=(Command(kind=CommandKind.APPROVE, actor="bob"),)
    )
    state = decide(state, approve, T0 + 601 * MINUTE).state
    assert (state.phase, state.exposure.percent) == (Phase.BAKING, 50)
    state = decide(state, passing, T0 + 631 * MINUTE).state
    assert state.exposure == Exposure(percent=100)
    state = decide(state, passing, T0 + 632 * MINUTE).state
    assert state.phase is Phase.BAKING  # monitoring, never skipped
    assert decide(state, passing, T0 + 691 * MINUTE).state.phase is Phase.BAKING
    assert decide(state, passing, T0 + 692 * MINUTE).state.phase is Phase.COMPLETED


def test_a_failing_rollback_gate_rolls_back_at_once_to_zero() -> None:
    # Given a canary at 5 %
    state, _ = run(CANARY, [(timedelta(0), START), (30 * MINUTE, looks(Verdict.PASS))])

    # When the error gate fails
    decision = decide(state, looks(Verdict.FAIL), T0 + 40 * MINUTE)

    # Then the exposure goes to 0 in this tick, with the evidence and an alert
    assert decision.state.phase is Phase.ROLLED_BACK
    assert decision.state.exposure.percent == 0
    assert exposures(decision) == [0]
    assert any(isinstance(a, Alert) and a.severity == "critical" for a in decision.actions)
    rolling = next(a for a in decision.actions if isinstance(a, RecordEvent))
    assert rolling.type == "plan.rolling_back"
    assert rolling.evidence["gate"] == "errors"


def test_a_hard_gate_kills_the_flag_without_waiting_for_the_bake() -> None:
    # Given a plan with a circuit breaker, at 1 %
    breaker = ThresholdGate(name="error_rate", metric="error_rate", max=0.01, hard=True)
    plan = Plan(
        name="p", flag="f", environment="e", stages=CANARY.stages, gates=(breaker,),
        on_failure=OnFailure.GRADUAL,
    )  # fmt: skip
    state, _ = run(plan, [(timedelta(0), START)])

    # When it fails a minute into the bake
    decision = decide(state, looks(Verdict.FAIL, "error_rate"), T0 + MINUTE)

    # Then the flag is killed at once, even though the plan would roll back gradually
    assert any(isinstance(a, KillFlag) for a in decision.actions)
    assert decision.state.phase is Phase.ROLLED_BACK


def test_a_gradual_rollback_steps_down_with_a_bake_between_steps() -> None:
    # Given a gradual plan at 100 %
    plan = Plan(
        name="p", flag="f", environment="e", gates=(ERRORS,), on_failure=OnFailure.GRADUAL,
        stages=(RampStage(percent=100, bake=60 * MINUTE),), gradual_bake=5 * MINUTE,
    )  # fmt: skip
    state, _ = run(plan, [(timedelta(0), START)])

    # When the gate fails, then time passes
    percents = []
    for minute in (1, 3, 6, 8, 11, 16):
        decision = decide(state, looks(Verdict.FAIL), T0 + minute * MINUTE)
        percents += exposures(decision)
        state = decision.state

    # Then 75 -> 50 -> 25 -> 0, five minutes apart, and it ends rolled back
    assert percents == [75, 50, 25, 0]
    assert state.phase is Phase.ROLLED_BACK


def test_a_pause_gate_holds_for_a_human_and_resume_starts_the_bake_again() -> None:
    # Given a plan whose only gate pauses
    latency = ThresholdGate(name="p95", metric="p95", max_ratio=2, mode=GateMode.PAUSE)
    plan = Plan(name="p", flag="f", environment="e", stages=CANARY.stages[:2], gates=(latency,))
    state, _ = run(plan, [(timedelta(0), START)])

    # When it fails, then a human resumes
    paused = decide(state, looks(Verdict.FAIL, "p95"), T0 + 10 * MINUTE).state
    resume = Observations(commands=(Command(kind=CommandKind.RESUME, actor="bob"),))
    resumed = decide(paused, resume, T0 + 20 * MINUTE).state

    # Then the exposure stayed, and the bake restarts from the resume
    assert paused.phase is Phase.PAUSED
    assert paused.exposure.percent == 1
    assert resumed.phase is Phase.BAKING
    assert resumed.stage_started_at == T0 + 20 * MINUTE


def test_an_observe_gate_is_recorded_and_never_acts() -> None:
    # Given an observe-only gate
    gate = HoldbackGate(name="errors", metric="e", mode=GateMode.OBSERVE)
    plan = Plan(name="p", flag="f", environment="e", stages=CANARY.stages[:1], gates=(gate,))
    state, _ = run(plan, [(timedelta(0), START)])

    # When it fails, and the bake passes
    decision = decide(state, looks(Verdict.FAIL), T0 + 30 * MINUTE)

    # Then it is recorded, and the plan goes on
    assert any(isinstance(a, RecordEvent) and a.type == "gate.observed" for a in decision.actions)
    assert decision.state.phase is Phase.COMPLETED


def test_the_failure_limit_and_the_error_limit_count_looks() -> None:
    # Given a plan that tolerates one failing look
    plan = Plan(
        name="p", flag="f", environment="e", stages=CANARY.stages[:1], gates=(ERRORS,),
        limits=GateLimits(failure_limit=1, error_limit=3),
    )  # fmt: skip
    state, _ = run(plan, [(timedelta(0), START)])

    # When: one failure holds, a second fails
    once = decide(state, looks(Verdict.FAIL), T0 + MINUTE).state
    assert once.phase is Phase.BAKING
    assert decide(once, looks(Verdict.FAIL), T0 + 2 * MINUTE).state.phase is Phase.ROLLED_BACK

    # And errors: two hold, the third in a row fails (an error is never a pass)
    errors = state
    for minute in (1, 2):
        errors = decide(errors, looks(Verdict.ERROR), T0 + minute * MINUTE).state
        assert errors.phase is Phase.BAKING
    assert decide(errors, looks(Verdict.ERROR), T0 + 3 * MINUTE).state.phase is Phase.ROLLED_BACK


def test_errors_hold_the_bake_so_an_error_never_passes_a_stage() -> None:
    state, _ = run(CANARY, [(timedelta(0), START)])
    held = decide(state, looks(Verdict.ERROR), T0 + 31 * MINUTE).state
    assert (held.phase, held.exposure.percent) == (Phase.BAKING, 1)


def test_inconclusive_holds_until_the_deadline_then_follows_the_policy() -> None:
    # Given a plan that rolls back when held for an hour
    limits = GateLimits(
        inconclusive_timeout=60 * MINUTE, inconclusive_policy=InconclusivePolicy.ROLLBACK
    )
    plan = Plan(
        name="p", flag="f", environment="e", stages=CANARY.stages[:2], gates=(ERRORS,),
        limits=limits,
    )  # fmt: skip
    state, _ = run(plan, [(timedelta(0), START)])
    unsure = looks(Verdict.INCONCLUSIVE)

    # When it stays inconclusive past the bake and then past the deadline
    held = decide(state, unsure, T0 + 30 * MINUTE).state
    still = decide(held, unsure, T0 + 80 * MINUTE).state
    done = decide(still, unsure, T0 + 91 * MINUTE).state

    # Then it held (never advanced), then rolled back
    assert (held.phase, held.exposure.percent) == (Phase.BAKING, 1)
    assert still.phase is Phase.BAKING
    assert done.phase is Phase.ROLLED_BACK


def test_no_data_is_its_own_state_with_a_policy_after_the_grace() -> None:
    # Given gates that see no data, under each policy
    outcomes = {}
    for policy in NoDataPolicy:
        plan = Plan(
            name="p", flag="f", environment="e", stages=CANARY.stages[:1], gates=(ERRORS,),
            limits=GateLimits(no_data_grace=10 * MINUTE, no_data_policy=policy),
        )  # fmt: skip
        state, decisions = run(
            plan,
            [
                (timedelta(0), START),
                (5 * MINUTE, looks(Verdict.NO_DATA)),
                (15 * MINUTE, looks(Verdict.NO_DATA)),
                (31 * MINUTE, looks(Verdict.NO_DATA)),
            ],
        )
        alerts = [a.kind for d in decisions for a in d.actions if isinstance(a, Alert)]
        outcomes[policy] = (state.phase, alerts)

    # Then: hold keeps waiting, rollback rolls back, warn alerts once and lets the bake end
    assert outcomes[NoDataPolicy.HOLD][0] is Phase.BAKING
    assert outcomes[NoDataPolicy.ROLLBACK][0] is Phase.ROLLED_BACK
    assert outcomes[NoDataPolicy.WARN] == (Phase.COMPLETED, ["gate.no_data"])


def test_a_sample_ratio_mismatch_pauses_the_plan() -> None:
    state, _ = run(CANARY, [(timedelta(0), START)])
    broken = GateVerdict(gate="assignment", verdict=Verdict.FAIL, message="55/45 of 20,000")
    decision = decide(
        state, Observations(verdicts=looks(Verdict.PASS).verdicts, assignment=broken), T0
    )
    assert decision.state.phase is Phase.PAUSED
    assert "sample ratio mismatch" in (decision.state.message or "")


def test_after_downtime_each_stage_still_gets_its_own_tick_and_exposure() -> None:
    # Given a canary started, then a controller down for a day
    state, _ = run(CANARY, [(timedelta(0), START)])
    passing = looks(Verdict.PASS)

    # When it comes back: each tick advances one stage, and the new bake starts then
    back = T0 + timedelta(days=1)
    first = decide(state, passing, back)
    second = decide(first.state, passing, back + MINUTE)

    # Then stage 2 was applied (not skipped straight to 50 %), and its bake is waited for
    assert exposures(first) == [5]
    assert exposures(second) == []
    assert second.state.stage == 1


def test_check_and_backfill_stages_run_once_and_act_on_their_outcome() -> None:
    # Given a plan that starts with a check suite
    plan = Plan(
        name="p", flag="f", environment="e", gates=(ERRORS,),
        stages=(CheckStage(checks=("schema",)), RampStage(percent=10)),
    )  # fmt: skip
    started = decide(PlanState(plan=plan), START, T0)
    waiting = decide(started.state, Observations(), T0 + MINUTE)

    # Then it asks for the run once, and waits for the outcome
    assert [a for a in started.actions if isinstance(a, RunStage)] == [RunStage(stage=0)]
    assert not [a for a in waiting.actions if isinstance(a, RunStage)]

    # When it passes, the ramp applies; when it fails, the plan fails with nothing to undo
    ok = GateVerdict(gate="check", verdict=Verdict.PASS)
    bad = GateVerdict(gate="check", verdict=Verdict.FAIL, message="backups 30 h old")
    passed = decide(waiting.state, Observations(stage_outcome=ok), T0 + 2 * MINUTE)
    failed = decide(waiting.state, Observations(stage_outcome=bad), T0 + 2 * MINUTE)
    assert exposures(passed) == [10]
    assert failed.state.phase is Phase.FAILED
    assert "backups 30 h old" in (failed.state.message or "")


def test_wait_until_and_approval_stages() -> None:
    plan = Plan(
        name="p", flag="f", environment="e",
        stages=(WaitUntilStage(at=T0 + 60 * MINUTE), ApprovalStage(), RampStage(percent=10)),
    )  # fmt: skip
    started = decide(PlanState(plan=plan), START, T0).state
    assert started.phase is Phase.RUNNING
    assert decide(started, Observations(), T0 + 59 * MINUTE).state.stage == 0
    at_approval = decide(started, Observations(), T0 + 60 * MINUTE).state
    assert at_approval.phase is Phase.AWAITING_APPROVAL
    approve = Observations(commands=(Command(kind=CommandKind.APPROVE, actor="a"),))
    assert decide(at_approval, approve, T0 + 61 * MINUTE).state.exposure.percent == 10


def test_operator_commands_rollback_abort_and_advance() -> None:
    state, _ = run(CANARY, [(timedelta(0), START)])

    def command(kind: CommandKind) -> Observations:
        return Observations(
            verdicts=looks(Verdict.PASS).verdicts, commands=(Command(kind=kind, actor="op"),)
        )

    rolled = decide(state, command(CommandKind.ROLLBACK), T0 + MINUTE)
    aborted = decide(state, command(CommandKind.ABORT), T0 + MINUTE)
    advanced = decide(state, command(CommandKind.ADVANCE), T0 + MINUTE)
    assert (rolled.state.phase, exposures(rolled)) == (Phase.ROLLED_BACK, [0])
    assert (aborted.state.phase, exposures(aborted)) == (Phase.FAILED, [])
    assert exposures(advanced) == [5]


def test_a_plan_without_progress_alerts_once_as_stale_and_again_after_progress() -> None:
    # Given a plan waiting for approval of stage 3 since minute 60
    state, _ = run(
        CANARY,
        [
            (timedelta(0), START),
            (30 * MINUTE, looks(Verdict.PASS)),
            (60 * MINUTE, looks(Verdict.PASS)),
        ],
    )
    assert state.phase is Phase.AWAITING_APPROVAL

    def stale(decision: Decision) -> int:
        return sum(isinstance(a, Alert) and a.kind == "plan.stale" for a in decision.actions)

    # When nobody approves for 20 days, then 22, then 23
    quiet = decide(state, looks(Verdict.PASS), T0 + timedelta(days=20))
    late = decide(quiet.state, looks(Verdict.PASS), T0 + timedelta(days=22))
    later = decide(late.state, looks(Verdict.PASS), T0 + timedelta(days=23))

    # Then one alert after 21 days, not repeated
    assert (stale(quiet), stale(late), stale(later)) == (0, 1, 0)

    # And after progress, a new stale spell alerts again
    approve = Observations(
        verdicts=looks(Verdict.PASS).verdicts,
        commands=(Command(kind=CommandKind.APPROVE, actor="a"),),
    )
    moved = decide(later.state, approve, T0 + timedelta(days=23, minutes=1))
    again = decide(moved.state, Observations(), T0 + timedelta(days=45))
    assert stale(again) == 1


def test_terminal_plans_ignore_everything() -> None:
    done = PlanState(plan=CANARY, phase=Phase.ROLLED_BACK)
    decision = decide(done, START, T0)
    assert decision.state == done
    assert decision.actions == ()


def test_ramps_after_the_first_keep_the_audiences_of_earlier_stages() -> None:
    # Given a ring plan: internal, then beta, then 10 % of everyone (templates.md's `ring`)
    plan = Plan(
        name="p", flag="f", environment="e", gates=(ERRORS,),
        stages=(
            RampStage(percent=100, bake=30 * MINUTE, segments=("internal",)),
            RampStage(percent=100, bake=30 * MINUTE, segments=("beta",)),
            RampStage(percent=10, bake=30 * MINUTE),
        ),
    )  # fmt: skip

    # When it runs through its stages, then its gate fails
    passes = [(timedelta(0), START)] + [(m * MINUTE, looks(Verdict.PASS)) for m in (31, 62)]
    state, decisions = run(plan, passes)
    failed = decide(state, looks(Verdict.FAIL), T0 + 70 * MINUTE)

    # Then the first ramp is applied alone (it resets what was there), the later ones keep
    # the rings served before them, and the rollback takes every audience back
    applied = [a for d in decisions for a in d.actions if isinstance(a, SetExposure)]
    assert [(a.exposure.segments, a.keep_other_audiences) for a in applied] == [
        (("internal",), False),
        (("beta",), True),
        ((), True),
    ]
    [rollback] = [a for a in failed.actions if isinstance(a, SetExposure)]
    assert (rollback.exposure.percent, rollback.keep_other_audiences) == (0, False)
