"""``rheostat rollout ...`` and ``rheostat controller run --once`` on a real SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rheostat import service
from rheostat.cli import app
from rheostat.service import Change, transact

PLAN = """\
plan: search
flag: hybrid_search
environment: production
stages:
  - ramp: {percent: 5, bake: 0s, holdback: true}
  - ramp: {percent: 50, bake: 0s, approval: required}
  - ramp: {percent: 100}
gates:
  - {metric: http_errors, compare: holdback, worse: higher, mode: observe}
"""


@pytest.fixture
def cli(sqlite_url: str, tmp_path: Path) -> tuple[CliRunner, list[str], Path]:
    service.migrate_database(sqlite_url)
    store = service.open_store(sqlite_url)
    try:
        transact(store, service.create_environment, "production", change=Change(actor="setup"))
        transact(store, service.create_flag, "production", "hybrid_search", {},
                 change=Change(actor="setup"))  # fmt: skip
    finally:
        store.close()
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    return CliRunner(env={"COLUMNS": "200"}), ["--database-url", sqlite_url], plan


def _status(runner: CliRunner, db: list[str]) -> tuple[int, dict[str, object]]:
    result = runner.invoke(app, ["rollout", "status", "search", "--json", *db])
    return result.exit_code, json.loads(result.output)


def test_a_plan_runs_from_start_to_approval_and_completes(
    cli: tuple[CliRunner, list[str], Path],
) -> None:
    runner, db, plan = cli

    # Given a started plan
    started = runner.invoke(app, ["rollout", "start", str(plan), *db])
    assert started.exit_code == 0, started.output

    # When the controller passes twice, then a human approves, then two more passes
    for _ in range(2):
        assert runner.invoke(app, ["controller", "run", "--once", *db]).exit_code == 0
    code, waiting = _status(runner, db)
    approved = runner.invoke(app, ["rollout", "approve", "search", "-r", "metrics ok", *db])
    for _ in range(3):
        runner.invoke(app, ["controller", "run", "--once", *db])
    done_code, done = _status(runner, db)

    # Then it waited at 5 % for the approval, and completed at 100 % with every event listed
    assert (code, waiting["state"], waiting["percent"]) == (0, "awaiting_approval", 5.0)
    assert approved.exit_code == 0
    assert (done_code, done["state"], done["percent"]) == (0, "completed", 100.0)
    events = done["events"]
    assert isinstance(events, list)
    assert {"type", "stage", "at", "evidence"} <= set(events[0])
    assert "stage.approved" in [event["type"] for event in events]


def test_a_rolled_back_plan_exits_1(cli: tuple[CliRunner, list[str], Path]) -> None:
    runner, db, plan = cli
    runner.invoke(app, ["rollout", "start", str(plan), *db])
    runner.invoke(app, ["controller", "run", "--once", *db])
    rolled = runner.invoke(app, ["rollout", "rollback", "search", "-r", "pager", *db])
    code, status = _status(runner, db)
    assert rolled.exit_code == 0
    assert (code, status["state"], status["percent"]) == (1, "rolled_back", 0.0)


def test_usage_errors_exit_2(cli: tuple[CliRunner, list[str], Path], tmp_path: Path) -> None:
    runner, db, _ = cli
    bad = tmp_path / "bad.yaml"
    bad.write_text(PLAN.replace("percent: 5,", "percent: -5,"))
    assert runner.invoke(app, ["rollout", "start", str(bad), *db]).exit_code == 2
    assert runner.invoke(app, ["rollout", "status", "nope", *db]).exit_code == 2
