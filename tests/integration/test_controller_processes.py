"""Real controller processes: SIGKILLed at random instants, and racing each other.

Issue 10: "several controllers may run; a SIGKILLed one is taken over; no stage is ever applied
twice. Prove it with a test that SIGKILLs a real controller process at random points and with two
controllers racing." Each plan ramps 5 → 25 → 50 → 100 % with one-second bakes, on the real
clock; the controllers run ``rheostat controller run`` with a one-second lease. Afterwards every
plan has completed, and its flag's history shows each stage applied exactly once, in order.
On SQLite (one file, several processes) and PostgreSQL.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from rheostat import service
from rheostat.flags.summary import rollout_percent
from rheostat.rollout import Plan, RampStage
from rheostat.rollout.state import Command, CommandKind, Phase
from rheostat.service import Change, SqlStore, transact

pytestmark = pytest.mark.slow

RHEOSTAT = Path(sys.executable).with_name("rheostat")
ENV = "production"
BAKE = timedelta(seconds=1)
PERCENTS = [5.0, 25.0, 50.0, 100.0]
DEADLINE_S = 120


def _plan(name: str) -> Plan:
    return Plan(
        name=name,
        flag=f"flag-{name}",
        environment=ENV,
        stages=(
            RampStage(percent=5, bake=BAKE),
            RampStage(percent=25, bake=BAKE),
            RampStage(percent=50, bake=BAKE),
            RampStage(percent=100),
        ),
    )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest) -> str:
    url = request.getfixturevalue(f"{request.param}_url")
    assert isinstance(url, str)
    return url


@pytest.fixture
def store(database: str) -> Iterator[SqlStore]:
    service.migrate_database(database)
    opened = service.open_store(database)
    try:
        yield opened
    finally:
        opened.close()


def _start_plans(store: SqlStore, names: list[str]) -> None:
    transact(store, service.create_environment, ENV, change=Change(actor="setup"))
    for name in names:
        transact(store, service.create_flag, ENV, f"flag-{name}", {}, change=Change(actor="setup"))
        transact(store, service.create_plan, _plan(name), change=Change(actor="alice"))
        start = Command(kind=CommandKind.START, actor="alice")
        transact(store, service.command_plan, ENV, name, start)


def _controller(database: str, name: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603  # our own console script, fixed arguments
        [str(RHEOSTAT), "controller", "run", "--interval", "0.1", "--lease", "1",
         "--name", name, "--database-url", database],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip


def _all_done(store: SqlStore, names: list[str]) -> bool:
    phases = {transact(store, service.get_plan, ENV, name).state.phase for name in names}
    return phases == {Phase.COMPLETED}


def _stop(process: subprocess.Popen[bytes]) -> str:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    _, errors = process.communicate(timeout=30)
    return errors.decode(errors="replace")


def _assert_each_stage_applied_once(store: SqlStore, names: list[str]) -> None:
    for name in names:
        history = transact(store, service.flag_history, ENV, f"flag-{name}")
        by_plan = sorted((v for v in history if v.actor == f"plan:{name}"), key=lambda v: v.version)
        assert [rollout_percent(v.definition) for v in by_plan] == PERCENTS, name
        events = transact(store, service.plan_events, ENV, name)
        started = [e.stage for e in events if e.type == "stage.started"]
        assert started == [0, 1, 2, 3], name
        assert [e.type for e in events].count("plan.completed") == 1, name


def test_a_controller_sigkilled_at_random_instants_is_taken_over_and_applies_nothing_twice(
    store: SqlStore, database: str
) -> None:
    # Given three running plans
    names = ["alpha", "beta", "gamma"]
    _start_plans(store, names)
    draw = random.Random(os.environ.get("PYTEST_SEED", "sigkill"))  # noqa: S311  # kill instants
    deadline = time.monotonic() + DEADLINE_S
    kills = 0

    # When controllers are started and SIGKILLed at random instants, again and again,
    while not _all_done(store, names) and time.monotonic() < deadline:
        process = _controller(database, f"victim-{kills}")
        time.sleep(draw.uniform(0.3, 2.5))
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
        kills += 1
        if kills == 12:
            break
    # and then one is left to finish the work
    survivor = _controller(database, "survivor")
    try:
        while not _all_done(store, names) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        errors = _stop(survivor)

    # Then every plan completed and each stage reached its flag exactly once, in order
    assert _all_done(store, names), errors
    assert "Traceback" not in errors
    _assert_each_stage_applied_once(store, names)
    assert kills >= 3


def test_two_controllers_racing_apply_each_stage_once_and_stop_cleanly(
    store: SqlStore, database: str
) -> None:
    # Given four running plans and two controllers started together
    names = ["one", "two", "three", "four"]
    _start_plans(store, names)
    racers = [_controller(database, "left"), _controller(database, "right")]
    deadline = time.monotonic() + DEADLINE_S

    # When they run until every plan is done
    try:
        while not _all_done(store, names) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        errors = [_stop(racer) for racer in racers]

    # Then both stopped cleanly, every plan completed, and nothing was applied twice
    assert _all_done(store, names), errors
    assert all("Traceback" not in text for text in errors), errors
    _assert_each_stage_applied_once(store, names)
    assert all(racer.returncode == 0 for racer in racers)
