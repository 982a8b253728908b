"""``rheostat experiment ...`` end to end through Typer's runner, on SQLite and PostgreSQL.

The command line runs on the system clock, so the traffic (recorded as an application would,
through the services) is stamped a few minutes back: its 1-minute windows have ended by the
time ``results`` looks, and a replay ``--at`` a past moment is allowed.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from rheostat import service
from rheostat.cli import app
from rheostat.clock import FixedClock, SystemClock
from rheostat.service import Conversion, Exposure, MetricEvent

UNITS = [f"user-{number}" for number in range(800)]


@pytest.fixture
def rheostat(store_url: str) -> Any:
    """Run ``rheostat ARGS --database-url URL`` on a migrated database with ``production``."""
    runner = CliRunner(env={"RHEOSTAT_DATABASE_URL": None, "RHEOSTAT_ENV": None})

    def run(*args: str) -> Result:
        return runner.invoke(app, [*args, "--database-url", store_url])

    assert run("migrate-db").exit_code == 0
    assert run("env", "create", "production").exit_code == 0
    return run


def _json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _record_traffic(store_url: str) -> None:
    """An application's traffic, five minutes ago: exposures, latencies and purchases."""
    clock = FixedClock(SystemClock().now() - timedelta(minutes=5))
    store = service.open_store(store_url, clock=clock)
    try:
        exposures = [Exposure(unit=unit, commit_sha="4be1a09") for unit in UNITS]
        receipt = service.transact(
            store, service.record_exposures, "production", "search", exposures
        )
        arms = {assignment.unit: str(assignment.arm) for assignment in receipt.assignments}
        events = [
            MetricEvent(
                arm=arm,
                metric="latency",
                value=(180.0 if arm == "treatment" else 200.0) + (index * 13) % 41 - 20,
            )
            for index, (unit, arm) in enumerate(arms.items())
        ]
        service.transact(store, service.record_metrics, "production", "search", events)
        buyers = [Conversion(unit=unit, metric="purchased") for unit in UNITS[::4]]
        service.transact(store, service.record_conversions, "production", "search", buyers)
    finally:
        store.close()


def test_an_experiment_runs_end_to_end_from_the_cli(rheostat: Any, store_url: str) -> None:
    # Given an experiment created and started from the command line
    created = _json(
        rheostat(
            "experiment", "create", "search",
            "--metric", "latency:lower", "--metric", "purchased:proportion",
            "--duration-days", "7", "--description", "hybrid search", "--json",
        )
    )  # fmt: skip
    started = rheostat("experiment", "start", "search", "-r", "ship it")

    # When an application records traffic, and the results are read, replayed and the
    # experiment stopped
    _record_traffic(store_url)
    table = rheostat("experiment", "results", "search")
    now = _json(rheostat("experiment", "results", "search", "--json"))
    replay = _json(rheostat("experiment", "results", "search", "--at", now["at"], "--json"))
    stopped = rheostat("experiment", "stop", "search", "-r", "decided")
    listed = _json(rheostat("experiment", "list", "--json"))

    # Then the table shows the CIs and verdict, the replay equals the stored results, and the
    # experiment ends stopped
    assert created["experiment"]["status"] == "draft"
    assert started.exit_code == 0
    assert "search started in production" in started.stdout
    assert table.exit_code == 0, table.output
    assert "valid, significant difference" in table.stdout
    assert "95% CI" in table.stdout
    assert "better" in table.stdout
    assert now["results"]["valid"] is True
    assert sum(arm["units"] for arm in now["results"]["arms"]) == len(UNITS)
    assert replay["replayed"] is True
    assert replay["matches_stored"] is True
    assert replay["results"] == now["results"]
    assert stopped.exit_code == 0
    assert [item["experiment"]["status"] for item in listed] == ["stopped"]


def test_cli_errors_have_clear_messages_and_exit_codes(rheostat: Any) -> None:
    # Given a stopped experiment
    rheostat("experiment", "create", "search")
    rheostat("experiment", "start", "search")
    rheostat("experiment", "stop", "search")

    # When the command line is given wrong things
    unknown = rheostat("experiment", "results", "nope")
    bad_arm = rheostat("experiment", "create", "other", "--arm", "control:50")
    bad_metric = rheostat("experiment", "create", "other", "--metric", "latency:median")
    bad_at = rheostat("experiment", "results", "search", "--at", "yesterday")
    future = rheostat("experiment", "results", "search", "--at", "2999-01-01T00:00:00Z")
    restart = rheostat("experiment", "start", "search")

    # Then usage errors exit 2 and a refused state change exits 1, each with one clear line
    assert (unknown.exit_code, bad_arm.exit_code, bad_metric.exit_code) == (2, 2, 2)
    assert (bad_at.exit_code, future.exit_code, restart.exit_code) == (2, 2, 1)
    assert "experiment 'nope' does not exist" in unknown.output
    assert "must be NAME=WEIGHT" in bad_arm.output
    assert "unknown 'median'" in bad_metric.output
    assert "not an ISO 8601 time" in bad_at.output
    assert "in the future" in future.output
    assert "cannot be started again" in restart.output
