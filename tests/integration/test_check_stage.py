"""A release plan's ``check`` stage end to end: a tick asks for it, ``run_check_stage`` runs and
stores it, the next tick reads its verdict. On SQLite and PostgreSQL."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rheostat import service
from rheostat.checks import CheckRun, Status
from rheostat.cli import app
from rheostat.errors import ValidationError
from rheostat.rollout import CheckStage, HoldbackGate, Plan, RampStage
from rheostat.rollout.state import Command, CommandKind, Phase, RunStage
from rheostat.service import Change, SqlStore, transact

ENV = "production"


def _plan(*checks: str) -> Plan:
    return Plan(
        name="search",
        flag="hybrid_search",
        environment=ENV,
        stages=(CheckStage(checks=checks), RampStage(percent=5)),
        gates=(HoldbackGate(name="errors", metric="http_errors"),),
    )


def _start(store: SqlStore, plan: Plan) -> None:
    transact(store, service.create_environment, ENV, change=Change(actor="setup"))
    transact(store, service.create_flag, ENV, "hybrid_search", {}, change=Change(actor="setup"))
    transact(store, service.create_plan, plan, change=Change(actor="alice"))
    transact(
        store, service.command_plan, ENV, "search", Command(kind=CommandKind.START, actor="alice")
    )


def _suite(folder: Path, name: str, exit_status: int) -> None:
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.yaml").write_text(
        f"checks:\n  - name: dump\n    kind: command\n    run: [{sys.executable!r},"
        f" -c, 'import sys; sys.exit({exit_status})']\n",
        encoding="utf-8",
    )


def _run_stage(store: SqlStore, checks_dir: Path) -> CheckRun:
    report = transact(store, service.tick_plan, ENV, "search")
    assert report.run == (RunStage(stage=0),)
    assert report.plan.state.phase is Phase.RUNNING
    [run] = service.run_tick_checks(store, report, checks_dir=checks_dir, environ={})
    return run


def test_a_passing_check_stage_lets_the_next_tick_start_the_ramp(
    store: SqlStore, tmp_path: Path
) -> None:
    # Given a plan whose first stage checks its rollback path and a suite file that passes
    checks_dir = tmp_path / "checks"
    _suite(checks_dir, "backups", 0)
    _start(store, _plan("plan_rollback", "backups"))

    # When a tick asks for the stage, the controller runs it, and the next tick looks
    run = _run_stage(store, checks_dir)
    report = transact(store, service.tick_plan, ENV, "search")

    # Then the run was stored for the stage, and the plan moved on to its 5 % ramp
    assert [(r.name, r.status) for r in run.results] == [
        ("plan_rollback", Status.PASS),
        ("backups.dump", Status.PASS),
    ]
    assert (run.source, run.plan, run.stage) == ("plan", "search", 0)
    assert report.plan.state.phase is Phase.BAKING
    assert report.plan.state.exposure.percent == 5
    events = transact(store, service.plan_events, ENV, "search")
    completed = next(e for e in events if e.type == "stage.completed")
    assert completed.evidence["check_run"] == run.id
    assert completed.evidence["summary"]["passed"] == 2


def test_a_failing_check_stage_stops_the_plan_with_its_evidence(
    store: SqlStore, tmp_path: Path
) -> None:
    # Given a suite whose command exits 3, and a plan gate metric without data
    checks_dir = tmp_path / "checks"
    _suite(checks_dir, "backups", 3)
    _start(store, _plan("backups", "plan_gate_data"))

    # When the stage runs and the next tick looks
    run = _run_stage(store, checks_dir)
    report = transact(store, service.tick_plan, ENV, "search")

    # Then the plan failed before any exposure, naming the failed checks
    assert report.plan.state.phase is Phase.FAILED
    assert report.plan.state.exposure.percent == 0
    assert "backups.dump" in (report.plan.state.message or "")
    events = transact(store, service.plan_events, ENV, "search")
    failed = events[-1]
    assert failed.type == "plan.failed"
    assert failed.evidence["check_run"] == run.id
    assert [item["name"] for item in failed.evidence["failed"]] == [
        "backups.dump",
        "plan_gate_data",
    ]
    flag = transact(store, service.get_flag, ENV, "hybrid_search")
    assert flag.version == 1


def test_a_missing_suite_file_fails_the_stage_instead_of_waiting(
    store: SqlStore, tmp_path: Path
) -> None:
    _start(store, _plan("no-such-suite"))
    run = _run_stage(store, tmp_path)
    assert run.results[0].status is Status.FAIL
    assert "no suite file" in run.results[0].message
    report = transact(store, service.tick_plan, ENV, "search")
    assert report.plan.state.phase is Phase.FAILED


def test_until_the_run_is_stored_the_stage_holds(store: SqlStore, tmp_path: Path) -> None:
    # Given a check stage that was asked for but has not run yet
    _start(store, _plan("plan_rollback"))
    transact(store, service.tick_plan, ENV, "search")

    # When the controller looks again
    report = transact(store, service.tick_plan, ENV, "search")

    # Then the stage holds, saying why
    assert report.plan.state.phase is Phase.RUNNING
    events = transact(store, service.plan_events, ENV, "search")
    assert events[-1].type == "stage.held"
    assert "waiting for its check run" in events[-1].message


def test_only_check_stages_run_as_check_stages(store: SqlStore, tmp_path: Path) -> None:
    _start(store, _plan("plan_rollback"))
    with pytest.raises(ValidationError, match="stage 2 of plan 'search' is not a check stage"):
        service.run_check_stage(store, ENV, "search", 1, checks_dir=tmp_path, environ={})


def test_a_tick_without_a_check_stage_runs_nothing(store: SqlStore, tmp_path: Path) -> None:
    # Given a plan whose stage 1 is a ramp
    _start(
        store,
        Plan(name="search", flag="hybrid_search", environment=ENV, stages=(RampStage(percent=5),)),
    )

    # When the controller ticks and hands the report over, Then no check runs
    report = transact(store, service.tick_plan, ENV, "search")
    assert service.run_tick_checks(store, report, checks_dir=tmp_path, environ={}) == []
    assert transact(store, service.list_check_runs) == []


def _controller_once(store_url: str, checks_dir: Path) -> None:
    runner = CliRunner(env={"RHEOSTAT_CHECKS_DIR": str(checks_dir), "COLUMNS": "200"})
    result = runner.invoke(app, ["controller", "run", "--once", "--database-url", store_url])
    assert result.exit_code == 0, result.output


def test_the_controller_runs_a_check_stage_after_its_tick_and_advances_on_the_next(
    store: SqlStore, store_url: str, tmp_path: Path
) -> None:
    # Given a plan whose first stage runs a passing suite
    checks_dir = tmp_path / "checks"
    _suite(checks_dir, "backups", 0)
    _start(store, _plan("backups"))

    # When the controller makes two passes
    _controller_once(store_url, checks_dir)
    runs = transact(store, service.list_check_runs)
    _controller_once(store_url, checks_dir)

    # Then the first ran the suite once the stage had started, the second started the ramp
    assert [(run.plan, run.stage) for run in runs] == [("search", 0)]
    plan = transact(store, service.get_plan, ENV, "search")
    assert plan.state.phase is Phase.BAKING
    assert plan.state.exposure.percent == 5


def test_a_check_stage_whose_run_was_lost_in_a_crash_is_run_by_the_next_pass(
    store: SqlStore, store_url: str, tmp_path: Path
) -> None:
    # Given a tick that started the check stage, committed, and then its controller died
    # before running the suite
    checks_dir = tmp_path / "checks"
    _suite(checks_dir, "backups", 0)
    _start(store, _plan("backups"))
    real_time = service.open_store(store_url)  # the controller processes' clock
    try:
        transact(real_time, service.tick_plan, ENV, "search")
    finally:
        real_time.close()
    assert transact(store, service.list_check_runs) == []

    # When another controller makes its passes
    _controller_once(store_url, checks_dir)
    _controller_once(store_url, checks_dir)

    # Then it ran the waiting stage's suite once and moved on
    assert len(transact(store, service.list_check_runs)) == 1
    assert transact(store, service.get_plan, ENV, "search").state.exposure.percent == 5
