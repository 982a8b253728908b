"""A backfill stage in ``decide``: it holds while its copy makes progress (the inconclusive
deadline counts from the job's last activity), and it is never advanced past unproved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rheostat.rollout import (
    BackfillStage,
    CheckStage,
    GateLimits,
    GateVerdict,
    HoldbackGate,
    InconclusivePolicy,
    Plan,
    RampStage,
    Verdict,
)
from rheostat.rollout.machine import decide
from rheostat.rollout.state import (
    Command,
    CommandKind,
    Observations,
    Phase,
    PlanState,
    RecordEvent,
    RunStage,
)

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
START = Observations(commands=(Command(kind=CommandKind.START, actor="alice"),))


def _plan(policy: InconclusivePolicy, first: BackfillStage | CheckStage) -> Plan:
    return Plan(
        name="search",
        flag="hybrid_search",
        environment="production",
        stages=(first, RampStage(percent=5)),
        limits=GateLimits(inconclusive_timeout=HOUR, inconclusive_policy=policy),
    )


def _running(plan: Plan) -> PlanState:
    """Started, and the stage asked for, at T0."""
    decision = decide(PlanState(plan=plan), START, T0)
    assert RunStage(stage=0) in decision.actions
    assert decision.state.phase is Phase.RUNNING
    return decision.state


def _copying(active_at: datetime | None) -> Observations:
    evidence = {} if active_at is None else {"active_at": active_at.isoformat()}
    outcome = GateVerdict(
        gate="backfill", verdict=Verdict.INCONCLUSIVE, message="copying", evidence=evidence
    )
    return Observations(stage_outcome=outcome)


def test_a_copy_that_keeps_committing_holds_its_stage_past_the_inconclusive_timeout() -> None:
    # Given a backfill stage held since T0 under a one-hour pause deadline
    state = _running(_plan(InconclusivePolicy.PAUSE, BackfillStage(job="docs")))
    state = decide(state, _copying(T0), T0).state

    # When its job last committed a batch a second ago, five hours in
    later = T0 + 5 * HOUR
    held = decide(state, _copying(later - timedelta(seconds=1)), later).state

    # Then the stage still holds; once the job stops moving for an hour, the plan pauses
    assert held.phase is Phase.RUNNING
    stuck = decide(held, _copying(later), later + HOUR).state
    assert stuck.phase is Phase.PAUSED


def test_without_activity_the_deadline_counts_from_the_first_hold() -> None:
    state = _running(_plan(InconclusivePolicy.PAUSE, BackfillStage(job="docs")))
    state = decide(state, _copying(None), T0).state
    assert decide(state, _copying(None), T0 + HOUR).state.phase is Phase.PAUSED


def test_the_advance_policy_never_skips_an_unproved_backfill_it_pauses_instead() -> None:
    # Given a plan that advances past inconclusive stages, whose backfill stays unproved
    state = _running(_plan(InconclusivePolicy.ADVANCE, BackfillStage(job="docs")))
    state = decide(state, _copying(T0), T0).state

    # When the deadline passes
    after = decide(state, _copying(T0), T0 + HOUR)

    # Then the plan paused on the backfill stage, with no exposure
    assert after.state.phase is Phase.PAUSED
    assert after.state.stage == 0
    assert after.state.exposure.percent == 0


def test_the_advance_policy_never_skips_a_check_stage_either() -> None:
    # Given a check stage whose suite never reported, under the advance policy
    state = _running(_plan(InconclusivePolicy.ADVANCE, CheckStage(checks=("schema",))))
    state = decide(state, _copying(None), T0).state

    # When the deadline passes, Then the plan pauses on it, with no exposure
    after = decide(state, _copying(None), T0 + HOUR).state
    assert after.phase is Phase.PAUSED
    assert after.stage == 0
    assert after.exposure.percent == 0


def test_the_advance_policy_still_advances_a_ramp_whose_gates_cannot_decide() -> None:
    # Given a 5 % ramp whose only gate stays inconclusive, under the advance policy
    plan = Plan(
        name="search",
        flag="hybrid_search",
        environment="production",
        stages=(RampStage(percent=5, bake=timedelta(minutes=10)), RampStage(percent=100)),
        gates=(HoldbackGate(name="errors", metric="http_errors"),),
        limits=GateLimits(
            inconclusive_timeout=HOUR, inconclusive_policy=InconclusivePolicy.ADVANCE
        ),
    )
    unsure = Observations(
        verdicts=(GateVerdict(gate="errors", verdict=Verdict.INCONCLUSIVE, message="few units"),)
    )
    state = decide(PlanState(plan=plan), START, T0).state
    state = decide(state, unsure, T0).state
    state = decide(state, unsure, T0 + timedelta(minutes=10)).state
    assert state.stage == 0

    # When the deadline passes, Then it moves on to the next stage
    after = decide(state, unsure, T0 + timedelta(minutes=10) + HOUR).state
    assert after.stage == 1
    assert after.exposure.percent == 100


def _verify_error() -> Observations:
    outcome = GateVerdict(
        gate="backfill",
        verdict=Verdict.ERROR,
        message="backfill docs: its verify could not run",
        evidence={"awaiting_run": True},
    )
    return Observations(stage_outcome=outcome)


def test_a_stage_error_holds_until_the_plans_error_limit_then_fails_the_stage() -> None:
    # Given a backfill stage of a plan that allows three errors in a row
    plan = Plan(
        name="search",
        flag="hybrid_search",
        environment="production",
        stages=(BackfillStage(job="docs"), RampStage(percent=5)),
        limits=GateLimits(error_limit=3),
    )
    state = _running(plan)

    # When its verify errors twice, with its work running again in between
    minute = timedelta(minutes=1)
    state = decide(state, _verify_error(), T0 + minute).state
    state = decide(state, _copying(None), T0 + 2 * minute).state
    state = decide(state, _verify_error(), T0 + 3 * minute).state

    # Then the stage holds, the errors counted (an inconclusive look does not reset them)
    assert state.phase is Phase.RUNNING
    assert state.exposure.percent == 0

    # And the third error fails the plan before any exposure, naming the count
    failed = decide(state, _verify_error(), T0 + 4 * minute)
    assert failed.state.phase is Phase.FAILED
    assert failed.state.exposure.percent == 0
    assert "verify could not run" in (failed.state.message or "")
    event = [a for a in failed.actions if isinstance(a, RecordEvent)][-1]
    assert event.type == "plan.failed"
    assert event.evidence["consecutive_errors"] == 3
    assert event.evidence["error_limit"] == 3


def test_the_stage_error_count_ends_with_its_stage() -> None:
    # Given a backfill stage that errored once and then passed
    state = _running(_plan(InconclusivePolicy.PAUSE, BackfillStage(job="docs")))
    state = decide(state, _verify_error(), T0).state
    assert state.tallies
    passed = GateVerdict(gate="backfill", verdict=Verdict.PASS, message="verified")
    after = decide(state, Observations(stage_outcome=passed), T0 + HOUR).state

    # Then the next stage starts with no count
    assert after.stage == 1
    assert not after.tallies
