"""A release plan's ``backfill`` stage end to end, on SQLite and PostgreSQL: ``rheostat controller
run --once`` starts a detached ``rheostat backfill run --verify`` worker, the stage holds while
it copies, then passes on a verified copy and the ramp starts; a verify with differences fails
the plan before any exposure; a worker SIGKILLed mid-copy is started again by a later pass.

The controller runs in this process (``CliRunner``) on the real clock; its workers are real
processes. Waits poll the store until a deadline, never a fixed sleep.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from backfill_data import EXPECTED, create_source, create_target, execute, job_text, query
from typer.testing import CliRunner

from rheostat import service
from rheostat.cli import app
from rheostat.rollout import BackfillStage, GateLimits, HoldbackGate, Plan, RampStage
from rheostat.rollout.state import Command, CommandKind, Phase, RunStage
from rheostat.runner import CHECKPOINT_TABLE
from rheostat.service import Change, SqlStore, transact
from rheostat.store.records import BackfillRecord, PlanRecord

ENV = "production"
ROWS = 3000
DEADLINE_SECONDS = 120.0


@dataclass(frozen=True)
class Data:
    """Where the job copies (``documents`` into ``documents_search``) and its files."""

    url: str
    backfills: Path


@pytest.fixture(autouse=True)
def _workers_end() -> Iterator[None]:
    """Each test's workers have ended (or are killed) before the next test starts."""
    yield
    deadline = time.monotonic() + DEADLINE_SECONDS
    while (running := service.started_workers()) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in running.values():
        os.kill(pid, signal.SIGKILL)
    assert not running, f"workers still running: {running}"


@pytest.fixture
def data(store: SqlStore, store_url: str, tmp_path: Path) -> Data:
    """Source rows and an empty target: in a SQLite file of their own, or in the PostgreSQL
    database of the store."""
    url = store_url if store.dialect == "postgresql" else f"sqlite:///{tmp_path / 'app.db'}"
    create_source(url, ROWS)
    create_target(url)
    backfills = tmp_path / "backfills"
    backfills.mkdir()
    return Data(url=url, backfills=backfills)


def _write_job(data: Data, job: str, *, rows_per_second: int = 0) -> None:
    text = job_text(data.url, data.url, name=job, size=100)
    text += f"throttle: {{max_rows_per_second: {rows_per_second}}}\n"
    (data.backfills / f"{job}.yaml").write_text(text, encoding="utf-8")


def _start(store: SqlStore, job: str, *, verify: str = "checksum") -> None:
    plan = Plan(
        name="search",
        flag="hybrid_search",
        environment=ENV,
        stages=(BackfillStage(job=job, verify=verify), RampStage(percent=5)),
        gates=(HoldbackGate(name="errors", metric="http_errors"),),
    )
    transact(store, service.create_environment, ENV, change=Change(actor="setup"))
    transact(store, service.create_flag, ENV, "hybrid_search", {}, change=Change(actor="setup"))
    transact(store, service.create_plan, plan, change=Change(actor="alice"))
    transact(
        store, service.command_plan, ENV, "search", Command(kind=CommandKind.START, actor="alice")
    )


def _controller_once(store_url: str, data: Data, env: dict[str, str] | None = None) -> str:
    runner = CliRunner(
        env={"RHEOSTAT_BACKFILLS_DIR": str(data.backfills), "COLUMNS": "200", **(env or {})}
    )
    result = runner.invoke(app, ["controller", "run", "--once", "--database-url", store_url])
    assert result.exit_code == 0, result.output
    return result.output


def _plan(store: SqlStore) -> PlanRecord:
    return transact(store, service.get_plan, ENV, "search")


def _job(store: SqlStore, name: str) -> BackfillRecord | None:
    with store.reading() as uow:
        return uow.backfills.find(name)


def _passes_until(
    store_url: str,
    data: Data,
    done: Callable[[], bool],
    *,
    outputs: list[str] | None = None,
    env: dict[str, str] | None = None,
) -> None:
    """Controller passes until ``done()``, or fail at the deadline."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not done():
        assert time.monotonic() < deadline, "the plan did not get there in time"
        output = _controller_once(store_url, data, env)
        if outputs is not None:
            outputs.append(output)
        time.sleep(0.1)


def _wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        assert time.monotonic() < deadline, "the condition did not hold in time"
        time.sleep(0.05)


def _settled(store: SqlStore) -> bool:
    return _plan(store).state.phase in (Phase.BAKING, Phase.FAILED, Phase.PAUSED)


def _copied_exactly(url: str) -> None:
    source, target = (query(url, sql) for sql in EXPECTED)
    assert len(target) == ROWS
    assert target == source
    ((distinct,),) = query(url, "SELECT count(DISTINCT id) FROM documents_search")
    assert distinct == ROWS


def test_a_backfill_stage_holds_while_its_worker_copies_then_passes_and_the_ramp_starts(
    store: SqlStore, store_url: str, data: Data
) -> None:
    # Given a plan whose first stage backfills 3,000 rows (throttled so that the copy takes
    # a few passes) and then ramps to 5 %
    _write_job(data, "docs-ramp", rows_per_second=1000)
    _start(store, "docs-ramp")

    # When the controller makes its first pass
    first = _controller_once(store_url, data)

    # Then it started the stage and its worker, and returned without waiting for the copy
    assert "backfill docs-ramp: worker" in first
    plan = _plan(store)
    assert plan.state.phase is Phase.RUNNING
    assert plan.state.exposure.percent == 0

    # When the worker is copying, a pass holds the stage
    _wait_for(lambda: (job := _job(store, "docs-ramp")) is not None and job.rows_done > 0)
    _controller_once(store_url, data)
    held = transact(store, service.plan_events, ENV, "search")[-1]
    assert held.type == "stage.held"
    assert "is copying" in held.message
    assert _plan(store).state.exposure.percent == 0

    # And passes go on until the stage settles
    _passes_until(store_url, data, lambda: _settled(store))

    # Then the stage passed on the verified copy and the ramp started
    plan = _plan(store)
    assert plan.state.phase is Phase.BAKING, plan.state.message
    assert plan.state.exposure.percent == 5
    events = transact(store, service.plan_events, ENV, "search")
    completed = next(e for e in events if e.type == "stage.completed")
    assert completed.evidence["backfill"] == "docs-ramp"
    assert completed.evidence["rows_done"] == ROWS
    assert completed.evidence["verify"]["identical"] is True
    assert completed.evidence["verify"]["differences"] == []
    assert "verified identical" in completed.message
    _copied_exactly(data.url)
    # the worker's output went to its log next to the job file
    log = (data.backfills / "docs-ramp.log").read_text(encoding="utf-8")
    assert '"event": "verify"' in log


def _tamper(data: Data) -> None:
    """A trigger that changes one row as it lands in the target (another writer)."""
    if data.url.startswith("sqlite"):
        execute(
            data.url,
            "CREATE TRIGGER tamper AFTER INSERT ON documents_search WHEN NEW.id = 100 "
            "BEGIN UPDATE documents_search SET title = 'tampered' WHERE id = 100; END",
        )
        return
    execute(
        data.url,
        "CREATE FUNCTION tamper() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF NEW.id = 100 THEN NEW.title := 'tampered'; END IF; RETURN NEW; END $$",
    )
    execute(
        data.url,
        "CREATE TRIGGER tamper BEFORE INSERT ON documents_search "
        "FOR EACH ROW EXECUTE FUNCTION tamper()",
    )


def test_a_verify_with_differences_fails_the_plan_before_any_exposure(
    store: SqlStore, store_url: str, data: Data
) -> None:
    # Given a target where one copied row is changed by another writer
    _tamper(data)
    _write_job(data, "docs-tampered")
    _start(store, "docs-tampered")

    # When the controller's passes run the stage
    _passes_until(store_url, data, lambda: _settled(store))

    # Then the plan failed before any exposure, with the verify as evidence
    plan = _plan(store)
    assert plan.state.phase is Phase.FAILED
    assert plan.state.exposure.percent == 0
    assert "cut-over refused" in (plan.state.message or "")
    failed = transact(store, service.plan_events, ENV, "search")[-1]
    assert failed.type == "plan.failed"
    assert failed.evidence["status"] == "completed"
    verify = failed.evidence["verify"]
    assert verify["identical"] is False
    assert len(verify["differences"]) == 1
    assert verify["source_rows"] == verify["target_rows"] == ROWS
    flag = transact(store, service.get_flag, ENV, "hybrid_search")
    assert flag.version == 1


def test_a_worker_killed_mid_copy_is_started_again_and_copies_every_row_once(
    store: SqlStore, store_url: str, data: Data
) -> None:
    # Given a backfill stage whose worker is copying (slowly)
    _write_job(data, "docs-killed", rows_per_second=1500)
    _start(store, "docs-killed")
    _controller_once(store_url, data)
    _wait_for(lambda: (job := _job(store, "docs-killed")) is not None and job.rows_done > 0)

    # When the worker is SIGKILLed mid-copy
    job = _job(store, "docs-killed")
    assert job is not None
    assert job.status == "running", job
    assert job.lease_owner is not None
    pid = int(job.lease_owner.rpartition(":")[2])
    os.kill(pid, signal.SIGKILL)
    ((done_at_kill,),) = query(
        data.url,
        f"SELECT rows_done FROM {CHECKPOINT_TABLE} WHERE job = 'docs-killed'",  # noqa: S608
    )
    assert done_at_kill < ROWS

    # And the controller goes on making passes
    outputs: list[str] = []
    _passes_until(store_url, data, lambda: _settled(store), outputs=outputs)

    # Then a pass started a new worker, which resumed, and the stage passed
    assert any("backfill docs-killed: worker" in output for output in outputs)
    plan = _plan(store)
    assert plan.state.phase is Phase.BAKING, plan.state.message
    assert plan.state.exposure.percent == 5
    job = _job(store, "docs-killed")
    assert job is not None
    assert (job.status, job.rows_done) == ("completed", ROWS)
    assert job.lease_owner is None
    _copied_exactly(data.url)
    ((rows_done,),) = query(
        data.url,
        f"SELECT rows_done FROM {CHECKPOINT_TABLE} WHERE job = 'docs-killed'",  # noqa: S608
    )
    assert rows_done == ROWS


@pytest.mark.parametrize(
    ("contents", "reason"),
    [
        (None, "no backfill job file"),
        ("backfill: docs-bad\nsource: {table: documents}\n", "source.url"),
        ("other", "names backfill 'other', the stage 'docs-bad'"),
    ],
)
def test_a_job_file_that_cannot_run_fails_the_stage_with_the_reason(
    store: SqlStore, data: Data, contents: str | None, reason: str
) -> None:
    # Given a backfill stage whose job file is missing, invalid, or names another job
    if contents == "other":
        _write_job(data, "other")
        (data.backfills / "other.yaml").rename(data.backfills / "docs-bad.yaml")
    elif contents is not None:
        (data.backfills / "docs-bad.yaml").write_text(contents, encoding="utf-8")
    _start(store, "docs-bad")

    # When the tick asks for the stage and the controller's work runs it
    report = transact(store, service.tick_plan, ENV, "search")
    assert report.run == (RunStage(stage=0),)
    done = service.run_stage_work(
        store,
        report.plan,
        report.run,
        checks_dir=data.backfills,
        backfills_dir=data.backfills,
        environ={},
    )

    # Then no worker started, and the next tick fails the plan, naming the reason
    [started] = done.backfills
    assert started.pid is None
    assert reason in (started.problem or "")
    report = transact(store, service.tick_plan, ENV, "search")
    assert report.plan.state.phase is Phase.FAILED
    assert reason in (report.plan.state.message or "")
    assert report.plan.state.exposure.percent == 0


def test_until_the_job_is_stored_the_stage_waits_for_a_worker(store: SqlStore, data: Data) -> None:
    # Given a backfill stage that was asked for, whose worker never started
    _write_job(data, "docs-late")
    _start(store, "docs-late")
    assert transact(store, service.tick_plan, ENV, "search").run == (RunStage(stage=0),)

    # When a controller looks again
    transact(store, service.claim_plans, "me", lease=timedelta(minutes=1))
    look = transact(store, service.observe_plan, ENV, "search")
    report = transact(store, service.apply_observation, look, owner="me")

    # Then the stage holds, waiting for a run, so the controller's stage work starts one
    outcome = look.observations.stage_outcome
    assert outcome is not None
    assert outcome.evidence["awaiting_run"] is True
    assert report is not None
    assert report.run == ()
    assert service.stage_work(look, report) == (RunStage(stage=0),)


def test_a_verify_that_raises_is_an_error_counted_by_the_error_limit_not_restarted_forever(
    store: SqlStore, store_url: str, data: Data
) -> None:
    # Given a job whose copy works but whose verify raises (its transform refuses a chunk)
    text = job_text(data.url, data.url, name="docs-fragile", size=100)
    text += "transform: backfill_data:fragile\n"
    (data.backfills / "docs-fragile.yaml").write_text(text, encoding="utf-8")
    plan = Plan(
        name="search",
        flag="hybrid_search",
        environment=ENV,
        stages=(BackfillStage(job="docs-fragile"), RampStage(percent=5)),
        gates=(HoldbackGate(name="errors", metric="http_errors"),),
        limits=GateLimits(error_limit=2),
    )
    transact(store, service.create_environment, ENV, change=Change(actor="setup"))
    transact(store, service.create_flag, ENV, "hybrid_search", {}, change=Change(actor="setup"))
    transact(store, service.create_plan, plan, change=Change(actor="alice"))
    transact(
        store, service.command_plan, ENV, "search", Command(kind=CommandKind.START, actor="alice")
    )

    # When the controller's passes run the stage
    outputs: list[str] = []
    env = {"PYTHONPATH": str(Path(__file__).parent)}
    _passes_until(store_url, data, lambda: _settled(store), outputs=outputs, env=env)

    # Then the worker recorded the verify's error as the job's failure
    job = _job(store, "docs-fragile")
    assert job is not None
    assert job.status == "failed"
    assert (job.error or "").startswith("verify: ")
    assert job.verify is not None
    assert "fragile transform" in job.verify["error"]
    assert job.verify["identical"] is False
    # and the plan failed at the error limit before any exposure, the error as its reason,
    # after at most one worker per allowed error (not one per pass)
    state = _plan(store).state
    assert state.phase is Phase.FAILED
    assert state.exposure.percent == 0
    assert "verify could not run" in (state.message or "")
    failed = transact(store, service.plan_events, ENV, "search")[-1]
    assert failed.type == "plan.failed"
    assert failed.evidence["consecutive_errors"] == 2
    starts = sum("backfill docs-fragile: worker" in output for output in outputs)
    assert 1 <= starts <= 2, outputs
    _copied_exactly(data.url)
