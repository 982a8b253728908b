"""Leases: several controllers share the plans, a dead one's plans are taken over, and a look
taken before another controller (or an operator) moved the plan is never applied.

Issue 10: "Lease per plan (PostgreSQL FOR UPDATE SKIP LOCKED with expiry; SQLite single-writer):
several controllers may run; a SIGKILLed one is taken over; no stage is ever applied twice."
The real processes are in ``test_controller_processes.py``; here the service, on SQLite and
PostgreSQL, with a clock the test moves.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from rheostat import service
from rheostat.clock import FixedClock
from rheostat.rollout import Plan, RampStage
from rheostat.rollout.state import Command, CommandKind, Phase
from rheostat.service import Change, SqlStore, transact

ENV = "production"
LEASE = timedelta(seconds=30)


def _plan(name: str) -> Plan:
    return Plan(
        name=name,
        flag=f"flag-{name}",
        environment=ENV,
        stages=(RampStage(percent=10, bake=timedelta(minutes=5)), RampStage(percent=100)),
    )


@pytest.fixture
def plans(store: SqlStore) -> SqlStore:
    return _started_plans(store)


def _started_plans(store: SqlStore) -> SqlStore:
    transact(store, service.create_environment, ENV, change=Change(actor="setup"))
    for name in ("a", "b", "c"):
        transact(store, service.create_flag, ENV, f"flag-{name}", {}, change=Change(actor="setup"))
        transact(store, service.create_plan, _plan(name), change=Change(actor="alice"))
        start = Command(kind=CommandKind.START, actor="alice")
        transact(store, service.command_plan, ENV, name, start)
    return store


def _claim(store: SqlStore, owner: str) -> list[str]:
    return [name for _, name in transact(store, service.claim_plans, owner, lease=LEASE)]


def _tick(store: SqlStore, name: str, owner: str) -> service.TickReport | None:
    look = transact(store, service.observe_plan, ENV, name)
    return transact(store, service.apply_observation, look, owner=owner)


def test_a_leased_plan_is_not_claimed_by_another_controller_until_its_lease_expires(
    plans: SqlStore, clock: FixedClock
) -> None:
    # Given controller one holds every plan
    assert _claim(plans, "one") == ["a", "b", "c"]

    # When controller two tries before and after the lease ran out
    before = _claim(plans, "two")
    clock.advance(LEASE + timedelta(seconds=1))
    after = _claim(plans, "two")

    # Then it gets nothing while the lease holds, and everything once it expired
    assert before == []
    assert after == ["a", "b", "c"]
    assert transact(plans, service.get_plan, ENV, "a").version >= 1


def test_a_controller_renews_its_own_leases_and_gives_them_back_when_it_stops(
    plans: SqlStore, clock: FixedClock
) -> None:
    # Given controller one renews its leases every pass, within the lease time
    _claim(plans, "one")
    for _ in range(3):
        clock.advance(LEASE / 2)
        assert _claim(plans, "one") == ["a", "b", "c"]
        assert _claim(plans, "two") == []

    # When it stops and gives them back
    released = transact(plans, service.release_plans, "one")

    # Then another controller takes them at once
    assert released == 3
    assert _claim(plans, "two") == ["a", "b", "c"]


def test_a_controller_that_lost_its_lease_applies_nothing(
    plans: SqlStore, clock: FixedClock
) -> None:
    # Given controller one looked at plan "a" and then stalled past its lease,
    _claim(plans, "one")
    stale_look = transact(plans, service.observe_plan, ENV, "a")
    clock.advance(LEASE + timedelta(seconds=1))
    # and controller two took the plan over and ticked it into its first stage
    _claim(plans, "two")
    first = _tick(plans, "a", "two")

    # When controller one wakes up and applies its old look
    late = transact(plans, service.apply_observation, stale_look, owner="one")

    # Then the stage was applied once, by controller two; controller one changed nothing
    assert first is not None
    assert first.changed
    assert late is None
    record = transact(plans, service.get_plan, ENV, "a")
    assert record.state.exposure.percent == 10
    started = [
        e for e in transact(plans, service.plan_events, ENV, "a") if e.type == "stage.started"
    ]
    assert len(started) == 1


def test_a_look_taken_before_an_operator_command_is_not_applied(plans: SqlStore) -> None:
    # Given the controller holds plan "a" and has looked at it
    _claim(plans, "one")
    look = transact(plans, service.observe_plan, ENV, "a")

    # When an operator pauses the plan before the look is applied
    pause = Command(kind=CommandKind.PAUSE, actor="bob")
    transact(plans, service.command_plan, ENV, "a", pause)
    applied = transact(plans, service.apply_observation, look, owner="one")

    # Then the old look changes nothing and the plan stays paused
    assert applied is None
    assert transact(plans, service.get_plan, ENV, "a").state.phase is Phase.PAUSED


def test_finished_plans_are_neither_claimed_nor_kept(plans: SqlStore, clock: FixedClock) -> None:
    # Given plan "b" is aborted by an operator
    abort = Command(kind=CommandKind.ABORT, actor="bob")
    transact(plans, service.command_plan, ENV, "b", abort)

    # When a controller claims
    claimed = _claim(plans, "one")

    # Then it gets the plans still to move, not the finished one
    assert claimed == ["a", "c"]


@pytest.mark.postgres
def test_on_postgresql_a_claim_skips_plans_another_controller_is_claiming(
    postgres_url: str, clock: FixedClock
) -> None:
    # Given three started plans on PostgreSQL
    store = service.open_store(postgres_url, clock=clock)
    try:
        service.migrate_database(postgres_url)
        _started_plans(store)
        # When controller one's claim of the first plan is still uncommitted
        with store.unit_of_work() as claiming:
            first = service.claim_plans(claiming, "one", lease=LEASE, limit=1)
            # and controller two claims meanwhile (it would wait forever without SKIP LOCKED)
            second = _claim(store, "two")
        # Then each got its own plans, at once
        assert first == [(ENV, "a")]
        assert second == ["b", "c"]
    finally:
        store.close()
