"""A canary with holdback, fed by metric windows over HTTP, ticked by the controller.

Issue 10's "done when": a canary plan with holdback advances through all stages on healthy
traffic sent to ``POST /api/v1/client/metrics``; a 2x error regression rolls back on its own
once the guard's evidence suffices, with the evidence recorded. On SQLite and PostgreSQL,
with a clock that moves one minute per tick.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from rheostat import service
from rheostat.api import create_app
from rheostat.clock import FixedClock
from rheostat.rollout import GateMode, HoldbackGate, Plan, RampStage
from rheostat.rollout.state import Command, CommandKind, Phase
from rheostat.service import Change, SqlStore, transact
from rheostat.settings import Settings

ENV = "production"
MINUTE = timedelta(minutes=1)
PLAN = Plan(
    name="search",
    flag="hybrid_search",
    environment=ENV,
    stages=(
        RampStage(percent=5, bake=10 * MINUTE, holdback=True),
        RampStage(percent=25, bake=10 * MINUTE, holdback=True),
        RampStage(percent=100),
    ),
    gates=(HoldbackGate(name="errors", metric="http_errors", mode=GateMode.ROLLBACK),),
)
REQUESTS_PER_PERCENT = 40  # per minute: 200 requests a minute in each arm at 5 %


@pytest.fixture
def running(store: SqlStore, store_url: str, clock: FixedClock) -> Iterator[tuple[TestClient, str]]:
    transact(store, service.create_environment, ENV, change=Change(actor="setup"))
    transact(store, service.create_flag, ENV, "hybrid_search", {}, change=Change(actor="setup"))
    sdk = transact(
        store, service.create_api_key, name="app", scope="sdk", environment=ENV,
        change=Change(actor="setup"),
    )  # fmt: skip
    transact(store, service.create_plan, PLAN, change=Change(actor="alice"))
    start = Command(kind=CommandKind.START, actor="alice")
    transact(store, service.command_plan, ENV, "search", start)
    with TestClient(create_app(Settings(database_url=store_url), clock=clock)) as client:
        yield client, sdk.token


def _minute_of_traffic(
    client: TestClient, token: str, clock: FixedClock, percent: float, rates: dict[str, float]
) -> None:
    """What the SDKs send for the minute that just began: one window per arm."""
    draw = random.Random(clock.now().isoformat())  # noqa: S311  # simulated traffic
    arms = {"on": percent, "holdback": min(percent, 100 - percent)}
    windows = []
    for variant, share in arms.items():
        n = int(share * REQUESTS_PER_PERCENT)
        if n == 0:
            continue
        errors = sum(draw.random() < rates[variant] for _ in range(n))
        windows.append(
            {
                "flag": "hybrid_search", "variant": variant, "metric": "http_errors",
                "start": clock.now().isoformat(), "seconds": 60, "kind": "proportion",
                "n": n, "successes": errors,
            }
        )  # fmt: skip
    answer = client.post(
        "/api/v1/client/metrics", json={"windows": windows},
        headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip
    assert answer.status_code == 200, answer.text


def _run(
    store: SqlStore, client: TestClient, token: str, clock: FixedClock, rates: dict[str, float]
) -> list[float]:
    """Tick once a minute for up to an hour; return the percentages the plan went through."""
    seen: list[float] = []
    for _ in range(60):
        report = transact(store, service.tick_plan, ENV, "search")
        state = report.plan.state
        if not seen or seen[-1] != state.exposure.percent:
            seen.append(state.exposure.percent)
        if state.phase in (Phase.COMPLETED, Phase.ROLLED_BACK):
            break
        clock.advance(timedelta(seconds=1))
        _minute_of_traffic(client, token, clock, state.exposure.percent, rates)
        clock.advance(MINUTE)
    return seen


def test_healthy_traffic_takes_the_canary_through_every_stage(
    store: SqlStore, running: tuple[TestClient, str], clock: FixedClock
) -> None:
    client, token = running
    seen = _run(store, client, token, clock, {"on": 0.02, "holdback": 0.02})
    plan = transact(store, service.get_plan, ENV, "search")
    assert plan.state.phase is Phase.COMPLETED
    assert seen == [5.0, 25.0, 100.0]


def test_a_doubled_error_rate_rolls_back_before_25_percent_with_the_evidence(
    store: SqlStore, running: tuple[TestClient, str], clock: FixedClock
) -> None:
    client, token = running
    seen = _run(store, client, token, clock, {"on": 0.04, "holdback": 0.02})
    plan = transact(store, service.get_plan, ENV, "search")
    assert plan.state.phase is Phase.ROLLED_BACK
    assert seen == [5.0, 0.0]
    events = transact(store, service.plan_events, ENV, "search")
    evidence = next(e for e in events if e.type == "plan.rolling_back").evidence
    assert evidence["gate"] == "errors"
    assert evidence["verdict"] == "fail"
    assert evidence["estimate"] > 0
