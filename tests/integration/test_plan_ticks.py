"""A controller tick in one transaction: state, flag version, audit and evidence together.

Issue 10 and issue 9's seam: "A controller tick must store its plan state, change the flag
(new flag version + audit event) and record its evidence in ONE transaction, or a crash
between them applies a stage twice." On SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from rheostat import Context, FlagSet, service
from rheostat.clock import FixedClock
from rheostat.errors import NotFound
from rheostat.rollout import GateVerdict, HoldbackGate, Plan, RampStage, Verdict
from rheostat.rollout.state import Command, CommandKind, Observations, Phase
from rheostat.service import AuditAction, Change, SqlStore, transact

ENV = "production"
PLAN = Plan(
    name="search",
    flag="hybrid_search",
    environment=ENV,
    stages=(
        RampStage(percent=5, bake=timedelta(minutes=30), holdback=True),
        RampStage(percent=50, bake=timedelta(minutes=30)),
        RampStage(percent=100),
    ),
    gates=(HoldbackGate(name="errors", metric="http_errors"),),
)
PASSING = Observations(verdicts=(GateVerdict(gate="errors", verdict=Verdict.PASS),))
FAILING = Observations(
    verdicts=(
        GateVerdict(
            gate="errors", verdict=Verdict.FAIL, message="2x errors", evidence={"estimate": 0.02}
        ),
    )
)


@pytest.fixture
def started(store: SqlStore) -> SqlStore:
    transact(store, service.create_environment, ENV, change=Change(actor="setup"))
    transact(store, service.create_flag, ENV, "hybrid_search", {}, change=Change(actor="setup"))
    transact(store, service.create_plan, PLAN, change=Change(actor="alice"))
    start = Command(kind=CommandKind.START, actor="alice")
    transact(store, service.command_plan, ENV, "search", start)
    return store


def _served(store: SqlStore) -> dict[str, int]:
    document = transact(store, service.snapshot, ENV).document
    flags = FlagSet.from_dict(document)
    counts: dict[str, int] = {}
    for n in range(4000):
        variant = flags.evaluate("hybrid_search", Context(key=f"u{n}"), default=False).variant
        counts[variant or "?"] = counts.get(variant or "?", 0) + 1
    return counts


def test_a_tick_applies_the_stage_to_the_flag_with_its_holdback(started: SqlStore) -> None:
    # Given a started plan / When the controller looks and the gate passes
    report = transact(started, service.reconcile, ENV, "search", PASSING)

    # Then the plan bakes at 5 %, and the flag serves 5 % on and a 5 % holdback
    assert report.plan.state.phase is Phase.BAKING
    assert report.changed
    counts = _served(started)
    assert 120 < counts["on"] < 280
    assert 120 < counts["holdback"] < 280
    flag = transact(started, service.get_flag, ENV, "hybrid_search")
    history = transact(started, service.flag_history, ENV, "hybrid_search")
    assert history[0].actor == "plan:search"
    assert history[0].action == AuditAction.FLAG_ROLLOUT_SET
    assert flag.version == 2
    events = transact(started, service.plan_events, ENV, "search")
    assert [e.type for e in events] == ["plan.started", "stage.started"]
    assert events[-1].evidence == {"percent": 5.0, "holdback_percent": 5.0, "segments": []}
    audit = transact(started, service.list_audit_events, subject="plan:search")
    assert {e.action for e in audit} >= {AuditAction.PLAN_TRANSITION, AuditAction.PLAN_CREATED}


def test_a_tick_that_fails_after_changing_the_flag_leaves_nothing_behind(
    started: SqlStore,
) -> None:
    # Given the plan and flag as they are
    before = transact(started, service.get_plan, ENV, "search")
    flag_before = transact(started, service.get_flag, ENV, "hybrid_search")

    # When a tick changes the flag and the state, and then its transaction fails
    def tick_then_crash() -> None:
        with started.unit_of_work() as uow:
            service.reconcile(uow, ENV, "search", PASSING)
            raise RuntimeError("the controller died before commit")

    with pytest.raises(RuntimeError):
        tick_then_crash()

    # Then neither the flag, nor the state, nor the events moved: the next tick applies it once
    assert transact(started, service.get_plan, ENV, "search") == before
    assert transact(started, service.get_flag, ENV, "hybrid_search") == flag_before
    again = transact(started, service.reconcile, ENV, "search", PASSING)
    assert again.plan.state.exposure.percent == 5
    versions = transact(started, service.flag_history, ENV, "hybrid_search")
    assert len(versions) == 2  # created, then stage 1 applied exactly once


def test_a_failing_gate_rolls_the_flag_back_with_the_evidence(started: SqlStore) -> None:
    # Given the plan at 5 %
    transact(started, service.reconcile, ENV, "search", PASSING)

    # When the error gate fails
    report = transact(started, service.reconcile, ENV, "search", FAILING)

    # Then the flag serves nobody, the plan is rolled back, the evidence is stored and alerted
    assert report.plan.state.phase is Phase.ROLLED_BACK
    assert "on" not in _served(started)
    events = transact(started, service.plan_events, ENV, "search")
    rolling = next(e for e in events if e.type == "plan.rolling_back")
    assert rolling.evidence["estimate"] == 0.02
    assert rolling.evidence["gate"] == "errors"
    assert [a.kind for a in report.alerts] == ["plan.rollback"]


def test_an_operator_rollback_applies_at_once(started: SqlStore) -> None:
    transact(started, service.reconcile, ENV, "search", PASSING)
    rollback = Command(kind=CommandKind.ROLLBACK, actor="oncall", reason="pager")
    report = transact(started, service.command_plan, ENV, "search", rollback)
    assert report.plan.state.phase is Phase.ROLLED_BACK
    assert "on" not in _served(started)


def test_a_healthy_plan_completes_at_100_percent(started: SqlStore, clock: FixedClock) -> None:
    # Given / When the controller ticks through the bakes with passing gates
    for _ in range(4):
        transact(started, service.reconcile, ENV, "search", PASSING)
        clock.advance(timedelta(minutes=31))

    # Then it completed and everyone is on
    plan = transact(started, service.get_plan, ENV, "search")
    assert plan.state.phase is Phase.COMPLETED
    assert _served(started) == {"on": 4000}


def test_a_plan_needs_an_existing_on_off_flag(started: SqlStore) -> None:
    copy = Plan(name="other", flag="missing", environment=ENV, stages=PLAN.stages)
    with pytest.raises(NotFound, match="missing"):
        transact(started, service.create_plan, copy, change=Change(actor="a"))
