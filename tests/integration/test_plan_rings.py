"""A ring stage's segments stay served while later stages ramp other audiences.

`plans.md`: "A plan never lowers an audience's exposure ... Ramps of different segments are
independent, so a plan may serve 100 % of internal, then 5 % of everyone." Review finding:
the ramp to everyone after a ring stage used to drop the ring's rule, so the internal users
fell back to the 5 % of everyone. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from rheostat import Context, FlagSet, service
from rheostat.clock import FixedClock
from rheostat.rollout import GateVerdict, HoldbackGate, Plan, RampStage, Verdict
from rheostat.rollout.state import Command, CommandKind, Observations, Phase
from rheostat.service import Change, SqlStore, transact

ENV = "production"
BAKE = timedelta(minutes=30)
PLAN = Plan(
    name="rings",
    flag="hybrid_search",
    environment=ENV,
    stages=(
        RampStage(percent=100, bake=BAKE, segments=("internal",)),
        RampStage(percent=100, bake=BAKE, segments=("beta",)),
        RampStage(percent=5, bake=BAKE),
        RampStage(percent=20, bake=BAKE),
    ),
    gates=(HoldbackGate(name="errors", metric="http_errors"),),
)
PASSING = Observations(verdicts=(GateVerdict(gate="errors", verdict=Verdict.PASS),))
FAILING = Observations(verdicts=(GateVerdict(gate="errors", verdict=Verdict.FAIL),))
USERS = range(2000)


@pytest.fixture
def started(store: SqlStore) -> SqlStore:
    setup = Change(actor="setup")
    transact(store, service.create_environment, ENV, change=setup)
    for team in ("internal", "beta"):
        segment = {"conditions": [{"attribute": "team", "op": "eq", "values": [team]}]}
        transact(store, service.create_segment, ENV, team, segment, change=setup)
    transact(store, service.create_flag, ENV, "hybrid_search", {}, change=setup)
    transact(store, service.create_plan, PLAN, change=Change(actor="alice"))
    start = Command(kind=CommandKind.START, actor="alice")
    transact(store, service.command_plan, ENV, "rings", start)
    return store


def _share_on(store: SqlStore, team: str) -> float:
    flags = FlagSet.from_dict(transact(store, service.snapshot, ENV).document)
    served = [
        flags.is_enabled("hybrid_search", Context(key=f"u{n}", attributes={"team": team}))
        for n in USERS
    ]
    return sum(served) / len(served)


def _tick_through_stages(store: SqlStore, clock: FixedClock, stages: int) -> None:
    for _ in range(stages):
        transact(store, service.reconcile, ENV, "rings", PASSING)
        clock.advance(BAKE + timedelta(minutes=1))


def test_rings_stay_served_while_everyone_ramps(started: SqlStore, clock: FixedClock) -> None:
    # Given / When the plan serves internal, then beta, then 5 % and 20 % of everyone
    _tick_through_stages(started, clock, 3)
    at_5 = {team: _share_on(started, team) for team in ("internal", "beta", "sales")}
    _tick_through_stages(started, clock, 2)

    # Then both rings keep 100 % while everyone else gets the ramp's share
    assert at_5["internal"] == at_5["beta"] == 1.0
    assert 0.02 < at_5["sales"] < 0.08
    assert _share_on(started, "internal") == _share_on(started, "beta") == 1.0
    assert 0.15 < _share_on(started, "sales") < 0.25
    plan = transact(started, service.get_plan, ENV, "rings")
    assert plan.state.phase is Phase.COMPLETED


def test_a_rollback_takes_the_rings_back_too(started: SqlStore, clock: FixedClock) -> None:
    # Given the plan at 5 % of everyone, both rings still served
    _tick_through_stages(started, clock, 3)
    assert _share_on(started, "internal") == 1.0

    # When the gate fails
    report = transact(started, service.reconcile, ENV, "rings", FAILING)

    # Then every audience is back to nobody
    assert report.plan.state.phase is Phase.ROLLED_BACK
    assert [_share_on(started, team) for team in ("internal", "beta", "sales")] == [0, 0, 0]
