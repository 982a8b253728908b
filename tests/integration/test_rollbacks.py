"""Rolling a flag back (issue 10): immediate, gradual, targeted, to a version; the history;
coherence with a running release plan. On SQLite and PostgreSQL, with a controlled clock."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from rheostat import Context, FlagSet, service
from rheostat.cli import app
from rheostat.clock import FixedClock
from rheostat.errors import Conflict, ValidationError
from rheostat.rollout import GateVerdict, HoldbackGate, Plan, RampStage, Verdict
from rheostat.rollout.state import Command, CommandKind, Observations, Phase
from rheostat.service import (
    AuditAction,
    Change,
    OutboxEvent,
    RollbackMode,
    RollbackRequest,
    RollbackStatus,
    SqlStore,
    transact,
)

ENV = "production"
FLAG = "hybrid_search"
USERS = [f"u{n}" for n in range(4000)]
OPS = Change(actor="oncall", reason="5xx up")


@pytest.fixture
def ramped(store: SqlStore) -> SqlStore:
    """A bool flag served to 40 % of users."""
    transact(store, service.create_environment, ENV, change=Change(actor="setup"))
    transact(store, service.create_flag, ENV, FLAG, {}, change=Change(actor="setup"))
    transact(store, service.set_rollout_percentage, ENV, FLAG, 40, change=Change(actor="setup"))
    return store


def _on(store: SqlStore, *, context: dict[str, object] | None = None) -> set[str]:
    flags = FlagSet.from_dict(transact(store, service.snapshot, ENV).document)
    extra = context or {}
    return {
        user for user in USERS if flags.is_enabled(FLAG, Context(key=user, attributes=dict(extra)))
    }


def _rollback(store: SqlStore, request: RollbackRequest) -> service.RollbackRecord:
    return transact(store, service.rollback_flag, ENV, FLAG, request, change=OPS)


def test_an_immediate_rollback_turns_the_flag_off_for_everyone_in_one_version(
    ramped: SqlStore,
) -> None:
    # Given the flag at 40 % / When it is rolled back at once
    record = _rollback(ramped, RollbackRequest(mode=RollbackMode.IMMEDIATE))

    # Then nobody gets it, one new version (a kill) records it, and the history says why
    assert _on(ramped) == set()
    history = transact(ramped, service.flag_history, ENV, FLAG)
    assert history[0].action == AuditAction.FLAG_KILLED
    assert history[0].version == 3
    assert record.status is RollbackStatus.COMPLETED
    assert record.details["from"]["percent"] == 40.0
    assert record.details["to"] == {"enabled": False, "version": 3}
    stored = transact(ramped, service.rollback_history, ENV, FLAG)
    assert [(r.id, r.mode, r.actor, r.reason) for r in stored] == [
        (record.id, RollbackMode.IMMEDIATE, "oncall", "5xx up")
    ]
    audit = transact(ramped, service.list_audit_events, subject=f"flag:{FLAG}")
    assert AuditAction.FLAG_ROLLED_BACK in {event.action for event in audit}


def test_a_gradual_rollback_steps_down_with_a_bake_and_survives_a_restart(
    ramped: SqlStore, store_url: str, clock: FixedClock
) -> None:
    # Given the flag at 40 % and a gradual rollback (75, 50, 25, 0 % of it, 5 minutes apart)
    at_40 = _on(ramped)
    record = _rollback(ramped, RollbackRequest(mode=RollbackMode.GRADUAL))
    at_30 = _on(ramped)

    # When no time passed, nothing is due; then the controller (a new process: a new store)
    # steps it each time the bake is over
    assert transact(ramped, service.due_rollbacks) == []
    restarted = service.open_store(store_url, clock=clock)
    seen = []
    try:
        for _ in range(3):
            clock.advance(timedelta(minutes=4))
            assert transact(restarted, service.due_rollbacks) == []
            clock.advance(timedelta(minutes=1))
            assert transact(restarted, service.due_rollbacks) == [record.id]
            transact(restarted, service.step_rollback, record.id)
            seen.append(_on(restarted))
    finally:
        restarted.close()

    # Then exposure went 40 -> 30 -> 20 -> 10 -> 0 %, each a subset of the one before
    assert record.status is RollbackStatus.RUNNING
    assert at_30 <= at_40
    assert seen[0] <= at_30
    assert seen[1] <= seen[0]
    assert seen[2] == set()
    assert 1000 < len(at_30) < 1400
    assert 650 < len(seen[0]) < 950
    done = transact(ramped, service.rollback_history, ENV, FLAG)[0]
    assert done.status is RollbackStatus.COMPLETED
    assert [step["percent"] for step in done.details["applied"]] == [30.0, 20.0, 10.0, 0.0]
    versions = transact(ramped, service.flag_history, ENV, FLAG)
    assert [v.action for v in versions[:4]] == [AuditAction.FLAG_ROLLOUT_SET] * 4
    assert transact(ramped, service.due_rollbacks) == []


def test_a_gradual_rollback_stops_when_someone_changes_the_flag(
    ramped: SqlStore, clock: FixedClock
) -> None:
    # Given a gradual rollback at its first step
    record = _rollback(ramped, RollbackRequest(mode=RollbackMode.GRADUAL))

    # When someone sets the flag by hand before the next step
    transact(ramped, service.set_rollout_percentage, ENV, FLAG, 5, change=Change(actor="bob"))
    clock.advance(timedelta(minutes=5))
    stepped = transact(ramped, service.step_rollback, record.id)

    # Then the rollback is cancelled and the flag keeps bob's 5 %
    assert stepped.status is RollbackStatus.CANCELLED
    assert "changed since" in stepped.details["cancelled"]
    flag = transact(ramped, service.get_flag, ENV, FLAG)
    assert flag.definition["rules"][-1]["serve"]["split"]["on"] == 5.0


def test_a_targeted_rollback_serves_off_to_users_groups_and_orgs_only(ramped: SqlStore) -> None:
    # Given the flag at 40 %, and u1 allow-listed on
    transact(ramped, service.add_flag_targets, ENV, FLAG, users=["u1"], change=Change(actor="a"))
    before = _on(ramped)
    assert "u1" in before

    # When u1, u2, the group "beta" and org "org-17" are rolled back
    request = RollbackRequest(
        mode=RollbackMode.TARGETED, users=("u1", "u2"), groups=("beta",), orgs=("org-17",)
    )
    record = _rollback(ramped, request)

    # Then they get the off value, everyone else what they had
    assert _on(ramped) == before - {"u1", "u2"}
    assert _on(ramped, context={"groups": ["beta"]}) == set()
    assert _on(ramped, context={"org_id": "org-17"}) == set()
    assert _on(ramped, context={"org_id": "org-18"}) == before - {"u1", "u2"}
    assert record.details["targets"]["orgs"] == ["org-17"]
    assert record.mode is RollbackMode.TARGETED


def test_a_rollback_to_a_version_restores_it(ramped: SqlStore) -> None:
    # Given version 2 at 40 %, then version 3 at 90 %
    transact(ramped, service.set_rollout_percentage, ENV, FLAG, 90, change=Change(actor="a"))

    # When rolled back to version 2
    record = _rollback(ramped, RollbackRequest(mode=RollbackMode.VERSION, version=2))

    # Then version 4 equals version 2
    history = transact(ramped, service.flag_history, ENV, FLAG)
    assert history[0].version == 4
    assert history[0].action == AuditAction.FLAG_RESTORED
    assert history[0].definition == history[2].definition
    assert record.details["to"] == {"version": 4, "restored_version": 2}


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (RollbackRequest(mode=RollbackMode.TARGETED), "at least one user"),
        (RollbackRequest(mode=RollbackMode.VERSION), "names the version"),
        (RollbackRequest(mode=RollbackMode.GRADUAL, steps=(50.0, 75.0, 0.0)), "decreasing"),
        (RollbackRequest(mode=RollbackMode.GRADUAL, steps=(50.0, 25.0)), "ending at 0"),
    ],
)
def test_a_request_that_does_not_fit_its_mode_changes_nothing(
    ramped: SqlStore, request_: RollbackRequest, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        _rollback(ramped, request_)
    assert transact(ramped, service.get_flag, ENV, FLAG).version == 2
    assert transact(ramped, service.rollback_history, ENV, FLAG) == []


def test_a_gradual_rollback_of_a_flag_serving_nobody_is_refused(ramped: SqlStore) -> None:
    transact(ramped, service.kill_flag, ENV, FLAG, change=Change(actor="a"))
    with pytest.raises(ValidationError, match="nothing to roll back"):
        _rollback(ramped, RollbackRequest(mode=RollbackMode.GRADUAL))


def test_a_stale_expected_version_is_refused_but_an_immediate_rollback_is_not(
    ramped: SqlStore,
) -> None:
    stale = Change(actor="oncall", expected_version=1)
    targeted = RollbackRequest(mode=RollbackMode.TARGETED, users=("u1",))
    with pytest.raises(Conflict):
        transact(ramped, service.rollback_flag, ENV, FLAG, targeted, change=stale)
    immediate = RollbackRequest(mode=RollbackMode.IMMEDIATE)
    record = transact(ramped, service.rollback_flag, ENV, FLAG, immediate, change=stale)
    assert record.status is RollbackStatus.COMPLETED


def test_hooks_hear_of_a_rollback_after_commit_and_never_of_one_rolled_back(
    ramped: SqlStore,
) -> None:
    # Given an in-process hook
    heard: list[OutboxEvent] = []
    ramped.add_event_listener(heard.append)

    # When one rollback's transaction fails, then another commits
    def fail_after_rollback() -> None:
        with ramped.unit_of_work() as uow:
            request = RollbackRequest(mode=RollbackMode.IMMEDIATE)
            service.rollback_flag(uow, ENV, FLAG, request, change=OPS)
            assert heard == []  # not before commit
            raise RuntimeError("crash before commit")

    with pytest.raises(RuntimeError):
        fail_after_rollback()
    assert heard == []
    _rollback(ramped, RollbackRequest(mode=RollbackMode.IMMEDIATE))

    # Then it heard only the committed one
    assert [event.type for event in heard] == ["rollback.started", "rollback.completed"]
    assert heard[0].data["mode"] == "immediate"
    assert heard[0].data["from"]["percent"] == 40.0


# A rollback and a running release plan ----------------------------------------------------------

PLAN = Plan(
    name="search",
    flag=FLAG,
    environment=ENV,
    stages=(
        RampStage(percent=5, bake=timedelta(minutes=30), holdback=True),
        RampStage(percent=50, bake=timedelta(minutes=30)),
        RampStage(percent=100),
    ),
    gates=(HoldbackGate(name="errors", metric="http_errors"),),
)
PASSING = Observations(verdicts=(GateVerdict(gate="errors", verdict=Verdict.PASS),))


@pytest.mark.parametrize("mode", [RollbackMode.IMMEDIATE, RollbackMode.GRADUAL])
def test_a_rollback_stops_the_plan_that_drives_the_flag(
    ramped: SqlStore, clock: FixedClock, mode: RollbackMode
) -> None:
    # Given a running plan that applied its first stage (5 % with a 5 % holdback)
    transact(ramped, service.create_plan, PLAN, change=Change(actor="alice"))
    start = Command(kind=CommandKind.START, actor="alice")
    transact(ramped, service.command_plan, ENV, "search", start)
    transact(ramped, service.reconcile, ENV, "search", PASSING)

    # When the flag is rolled back
    record = _rollback(ramped, RollbackRequest(mode=mode))
    version_after = transact(ramped, service.get_flag, ENV, FLAG).version

    # Then the plan is stopped in the same transaction, and later controller ticks (gates
    # passing, bakes over) never ramp the flag back up
    plan = transact(ramped, service.get_plan, ENV, "search")
    assert plan.state.phase is Phase.FAILED
    assert record.details["plans_stopped"] == ["search"]
    events = transact(ramped, service.plan_events, ENV, "search")
    assert events[-1].type == "plan.aborted"
    for _ in range(3):
        clock.advance(timedelta(minutes=31))
        transact(ramped, service.reconcile, ENV, "search", PASSING)
        transact(ramped, service.step_due_rollbacks)
    assert transact(ramped, service.get_plan, ENV, "search").state.phase is Phase.FAILED
    assert _on(ramped) == set()
    expected = version_after if mode is RollbackMode.IMMEDIATE else version_after + 3
    assert transact(ramped, service.get_flag, ENV, FLAG).version == expected


def test_a_second_rollback_cancels_a_running_gradual_one(ramped: SqlStore) -> None:
    gradual = _rollback(ramped, RollbackRequest(mode=RollbackMode.GRADUAL))
    _rollback(ramped, RollbackRequest(mode=RollbackMode.IMMEDIATE))
    history = transact(ramped, service.rollback_history, ENV, FLAG)
    assert [(r.id, r.status) for r in history] == [
        (gradual.id + 1, RollbackStatus.COMPLETED),
        (gradual.id, RollbackStatus.CANCELLED),
    ]
    assert transact(ramped, service.due_rollbacks) == []


def test_one_operations_round_steps_rollbacks_and_goes_on_after_a_failure(
    ramped: SqlStore, clock: FixedClock
) -> None:
    # Given two gradual rollbacks, the second of a flag deleted since
    transact(ramped, service.create_flag, ENV, "other", {}, change=Change(actor="setup"))
    transact(ramped, service.set_rollout_percentage, ENV, "other", 20, change=Change(actor="s"))
    first = _rollback(ramped, RollbackRequest(mode=RollbackMode.GRADUAL))
    second = transact(
        ramped,
        service.rollback_flag,
        ENV,
        "other",
        RollbackRequest(mode=RollbackMode.GRADUAL),
        change=OPS,
    )
    transact(ramped, service.delete_flag, ENV, "other", change=Change(actor="bob"))
    clock.advance(timedelta(minutes=5))

    # When the controller's round runs
    report = service.run_operations(ramped)

    # Then the first stepped down and the second stopped, with no error
    assert report.rollback_steps == 2
    assert report.errors == ()
    history = {r.id: r for r in transact(ramped, service.rollback_history, ENV, FLAG)}
    assert history[first.id].details["to"]["percent"] == 20.0
    stopped = transact(ramped, service.rollback_history, ENV, "other")[0]
    assert stopped.id == second.id
    assert stopped.status is RollbackStatus.CANCELLED


def test_two_controllers_stepping_one_rollback_apply_the_step_once(
    ramped: SqlStore, store_url: str, clock: FixedClock
) -> None:
    # Given a gradual rollback whose next step is due, and a second controller's store
    record = _rollback(ramped, RollbackRequest(mode=RollbackMode.GRADUAL))
    clock.advance(timedelta(minutes=5))
    other = service.open_store(store_url, clock=clock)
    before = transact(ramped, service.get_flag, ENV, FLAG).version

    # When both step it at the same moment
    def step(store: SqlStore) -> None:
        transact(store, service.step_rollback, record.id)

    try:
        threads = [threading.Thread(target=step, args=(s,)) for s in (ramped, other)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        other.close()

    # Then the step was applied once: one new flag version, two entries in all
    assert transact(ramped, service.get_flag, ENV, FLAG).version == before + 1
    stored = transact(ramped, service.rollback_history, ENV, FLAG)[0]
    assert [entry["percent"] for entry in stored.details["applied"]] == [30.0, 20.0]
    assert stored.status is RollbackStatus.RUNNING  # the second saw it was not due, not a clash


def test_the_controller_command_steps_a_gradual_rollback(store_url: str, ramped: SqlStore) -> None:
    # Given a gradual rollback with one-second bakes, started on the real clock
    real_time = service.open_store(store_url)
    try:
        request = RollbackRequest(mode=RollbackMode.GRADUAL, bake=timedelta(seconds=1))
        transact(real_time, service.rollback_flag, ENV, FLAG, request, change=OPS)
    finally:
        real_time.close()
    runner = CliRunner()

    # When `rheostat controller run --once` runs after each bake
    for _ in range(10):
        time.sleep(1.1)
        result = runner.invoke(app, ["controller", "run", "--once", "--database-url", store_url])
        assert result.exit_code == 0, result.output
        history = transact(ramped, service.rollback_history, ENV, FLAG)
        if history[0].status is RollbackStatus.COMPLETED:
            break

    # Then its operations round stepped the rollback down to nobody
    assert history[0].status is RollbackStatus.COMPLETED
    assert [step["percent"] for step in history[0].details["applied"]] == [30.0, 20.0, 10.0, 0.0]
    assert _on(ramped) == set()
