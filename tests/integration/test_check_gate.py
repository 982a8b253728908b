"""A release plan's check gate end to end: the controller runs its suite after a tick
(``run_gate_checks``, spaced by ``every``), the next look judges the newest run. On SQLite and
PostgreSQL, and through ``rheostat controller run --once``."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from rheostat import service
from rheostat.checks import CheckRun, Status
from rheostat.cli import app
from rheostat.clock import FixedClock
from rheostat.rollout import CheckGate, GateMode, Plan, RampStage, Verdict
from rheostat.rollout.state import Command, CommandKind, Phase
from rheostat.service import Change, SqlStore, transact

ENV = "production"
BAKE = timedelta(minutes=10)


def _plan(mode: GateMode = GateMode.PAUSE, every: timedelta = timedelta(seconds=60)) -> Plan:
    return Plan(
        name="search",
        flag="hybrid_search",
        environment=ENV,
        stages=(RampStage(percent=5, bake=BAKE), RampStage(percent=50, bake=BAKE)),
        gates=(CheckGate(name="preflight", checks=("backups",), mode=mode, every=every),),
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


def _tick_and_run(store: SqlStore, checks_dir: Path) -> tuple[service.TickReport, list[CheckRun]]:
    """One controller pass: the tick, then (committed) the due check gates."""
    report = transact(store, service.tick_plan, ENV, "search")
    runs = service.run_gate_checks(store, report.plan, checks_dir=checks_dir, environ={})
    return report, runs


def _gate_look(store: SqlStore) -> Verdict:
    with store.reading() as uow:
        look = service.observe_plan(uow, ENV, "search")
    [verdict] = [v for v in look.observations.verdicts if v.gate == "preflight"]
    return verdict.verdict


def test_a_passing_check_gate_lets_the_plan_advance(
    store: SqlStore, clock: FixedClock, tmp_path: Path
) -> None:
    # Given a plan at 5 % whose check gate (every hour) ran a passing suite after the tick
    checks_dir = tmp_path / "checks"
    _suite(checks_dir, "backups", 0)
    _start(store, _plan(every=timedelta(hours=1)))
    report, [run] = _tick_and_run(store, checks_dir)
    assert report.plan.state.exposure.percent == 5

    # When the bake is over and the controller passes again
    clock.advance(BAKE)
    assert _gate_look(store) is Verdict.PASS
    report, runs = _tick_and_run(store, checks_dir)

    # Then the run was the gate's, the plan moved on to 50 %, and the new stage's gate ran
    # at once (a run of the last stage does not count for it), within the hour
    assert (run.suite, run.source, run.plan, run.stage) == ("preflight", "plan", "search", None)
    assert [(r.name, r.status) for r in run.results] == [("backups.dump", Status.PASS)]
    assert report.plan.state.phase is Phase.BAKING
    assert report.plan.state.exposure.percent == 50
    assert [r.suite for r in runs] == ["preflight"]
    assert runs[0].started_at == clock.now()


def test_a_failing_suite_in_a_pause_gate_pauses_the_plan_with_the_failed_checks(
    store: SqlStore, tmp_path: Path
) -> None:
    # Given a 5 % stage whose check gate's suite fails
    checks_dir = tmp_path / "checks"
    _suite(checks_dir, "backups", 3)
    _start(store, _plan())
    _report, [run] = _tick_and_run(store, checks_dir)

    # When the controller looks again
    report = transact(store, service.tick_plan, ENV, "search")

    # Then the plan paused at 5 %, naming the gate and its failed checks
    state = report.plan.state
    assert (state.phase, state.exposure.percent) == (Phase.PAUSED, 5)
    paused = transact(store, service.plan_events, ENV, "search")[-1]
    assert paused.type == "plan.paused"
    assert paused.evidence["gate"] == "preflight"
    assert paused.evidence["verdict"] == "fail"
    assert paused.evidence["check_run"] == run.id
    assert [item["name"] for item in paused.evidence["failed"]] == ["backups.dump"]

    # And a paused plan runs its check gates no more
    assert service.run_gate_checks(store, report.plan, checks_dir=checks_dir, environ={}) == []


def test_a_failing_suite_in_a_rollback_gate_rolls_the_plan_back(
    store: SqlStore, tmp_path: Path
) -> None:
    checks_dir = tmp_path / "checks"
    _suite(checks_dir, "backups", 3)
    _start(store, _plan(mode=GateMode.ROLLBACK))
    _tick_and_run(store, checks_dir)

    report = transact(store, service.tick_plan, ENV, "search")

    state = report.plan.state
    assert (state.phase, state.exposure.percent) == (Phase.ROLLED_BACK, 0)
    events = transact(store, service.plan_events, ENV, "search")
    rolling = next(e for e in events if e.type == "plan.rolling_back")
    assert [item["name"] for item in rolling.evidence["failed"]] == ["backups.dump"]
    flag = transact(store, service.get_flag, ENV, "hybrid_search")
    assert flag.version == 3  # created, 5 %, back to 0


def test_runs_of_a_check_gate_are_spaced_by_every(
    store: SqlStore, clock: FixedClock, tmp_path: Path
) -> None:
    # Given a gate that runs every 60 s, which ran once after the tick started the stage
    checks_dir = tmp_path / "checks"
    _suite(checks_dir, "backups", 0)
    _start(store, _plan())
    _report, first = _tick_and_run(store, checks_dir)
    plan = transact(store, service.get_plan, ENV, "search")

    def run_due() -> list[CheckRun]:
        return service.run_gate_checks(store, plan, checks_dir=checks_dir, environ={})

    # When the controller passes again and again
    again = run_due()
    clock.advance(timedelta(seconds=59))
    before_a_minute = run_due()
    clock.advance(timedelta(seconds=1))
    after_a_minute = run_due()

    # Then it ran once, then not before a minute had passed, then once more
    assert (len(first), again, before_a_minute, len(after_a_minute)) == (1, [], [], 1)
    assert len(transact(store, service.list_check_runs)) == 2


def test_until_a_check_gate_has_run_its_look_is_no_data_and_the_stage_holds(
    store: SqlStore, clock: FixedClock, tmp_path: Path
) -> None:
    # Given a 5 % stage whose check gate has not run (a controller died after the tick)
    _start(store, _plan())
    transact(store, service.tick_plan, ENV, "search")

    # When the bake is over and the controller looks
    clock.advance(BAKE)
    look = _gate_look(store)
    report = transact(store, service.tick_plan, ENV, "search")

    # Then the gate has no data, which is never a pass: the stage holds at 5 %
    assert look is Verdict.NO_DATA
    assert (report.plan.state.phase, report.plan.state.exposure.percent) == (Phase.BAKING, 5)
    held = transact(store, service.plan_events, ENV, "search")[-1]
    assert held.type == "stage.held"
    assert "preflight" in held.message

    # And once it has run (a passing suite), the next look lets it advance
    checks_dir = tmp_path / "checks"
    _suite(checks_dir, "backups", 0)
    assert len(service.run_gate_checks(store, report.plan, checks_dir=checks_dir, environ={})) == 1
    report = transact(store, service.tick_plan, ENV, "search")
    assert report.plan.state.exposure.percent == 50


def _controller_once(store_url: str, checks_dir: Path) -> None:
    runner = CliRunner(env={"RHEOSTAT_CHECKS_DIR": str(checks_dir), "COLUMNS": "200"})
    result = runner.invoke(app, ["controller", "run", "--once", "--database-url", store_url])
    assert result.exit_code == 0, result.output


def test_the_controller_runs_a_check_gate_after_its_tick_and_pauses_on_a_failure(
    store: SqlStore, store_url: str, tmp_path: Path
) -> None:
    # Given a started plan whose check gate's suite fails. The controller processes run on
    # the real clock: the plan is started by a store on the real clock too, so its stage
    # begins before the controller's runs (the fixture's clock stands in 2026-01-01).
    checks_dir = tmp_path / "checks"
    _suite(checks_dir, "backups", 3)
    real_time = service.open_store(store_url)
    try:
        _start(real_time, _plan())
    finally:
        real_time.close()

    # When the controller makes two passes
    _controller_once(store_url, checks_dir)
    runs = transact(store, service.list_check_runs)
    _controller_once(store_url, checks_dir)

    # Then the first started the 5 % stage and ran the gate's suite after its tick; the
    # second judged that run and paused the plan, with the failed checks as evidence
    assert [(run.suite, run.plan, run.stage) for run in runs] == [("preflight", "search", None)]
    plan = transact(store, service.get_plan, ENV, "search")
    assert (plan.state.phase, plan.state.exposure.percent) == (Phase.PAUSED, 5)
    paused = transact(store, service.plan_events, ENV, "search")[-1]
    assert paused.type == "plan.paused"
    assert paused.evidence["check_run"] == runs[0].id
    assert [item["name"] for item in paused.evidence["failed"]] == ["backups.dump"]
    assert len(transact(store, service.list_check_runs)) == 1  # paused: no more runs
