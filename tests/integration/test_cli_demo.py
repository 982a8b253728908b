"""``rheostat demo`` and the installed console script, run for real.

The demo runs once as a real process (``--no-serve``) and the tests read what it left in its
database; one more run serves the dashboard until SIGINT.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from live_servers import free_port

from rheostat import service
from rheostat.clock import SystemClock
from rheostat.rollout.state import Phase
from rheostat.service import SqlStore

pytestmark = pytest.mark.slow

RHEOSTAT = Path(sys.executable).with_name("rheostat")
DEMO_TIMEOUT_S = 300
"""A guard against a hung demo, not a measurement (it takes well under a minute unloaded)."""


@dataclass(frozen=True, slots=True)
class DemoRun:
    result: subprocess.CompletedProcess[str]
    directory: Path


def _run_script(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603  # our own console script, fixed arguments
        [str(RHEOSTAT), *args],
        capture_output=True,
        text=True,
        timeout=DEMO_TIMEOUT_S,
        check=False,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "120", **(env or {})},
    )


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """``rheostat demo --no-serve`` once, from a folder of its own (it writes ``.demo/``)."""
    where = tmp_path_factory.mktemp("demo")
    result = _run_script("demo", "--no-serve", cwd=where)
    return DemoRun(result=result, directory=where / ".demo")


@pytest.fixture
def demo_store(demo_run: DemoRun) -> Iterator[SqlStore]:
    assert demo_run.result.returncode == 0, demo_run.result.stderr
    store = service.open_store(f"sqlite:///{demo_run.directory / 'rheostat.db'}")
    yield store
    store.close()


def test_the_demo_runs_to_the_end_and_exits_0(demo_run: DemoRun) -> None:
    # Given / When the demo ran without the server
    result = demo_run.result

    # Then it exited 0, with no traceback, telling the story as it went
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    for told in ("plan.rolling_back", "plan.completed", "zero differences", "kill switches"):
        assert told in result.stdout
    assert "Demo finished" in result.stdout


def test_the_healthy_canary_completes_at_100_percent(demo_store: SqlStore) -> None:
    # Given the demo's database / When the healthy plan and its flag are read
    with demo_store.reading() as uow:
        plan = service.get_plan(uow, "production", "hybrid-search")
        events = service.plan_events(uow, "production", "hybrid-search")
        flag = service.get_flag(uow, "production", "hybrid_search")

    # Then it went through every stage, holdbacks included, and everyone has the flag
    assert plan.state.phase is Phase.COMPLETED
    assert plan.state.exposure.percent == 100
    started = [e.evidence["percent"] for e in events if e.type == "stage.started" and e.evidence]
    assert started == [1, 5, 25, 50, 100]
    assert flag.enabled
    assert not any(e.type.startswith("plan.rolling") for e in events)


def test_the_regression_is_rolled_back_with_a_failing_verdict_as_evidence(
    demo_store: SqlStore,
) -> None:
    # Given the demo's database / When the regressing plan is read
    with demo_store.reading() as uow:
        plan = service.get_plan(uow, "production", "async-reports")
        events = service.plan_events(uow, "production", "async-reports")

    # Then the guard rolled it back to 0 % by itself, and the evidence shows why
    assert plan.state.phase is Phase.ROLLED_BACK
    assert plan.state.exposure.percent == 0
    rollback = next(e for e in events if e.type == "plan.rolling_back")
    evidence = rollback.evidence
    assert rollback.actor == "controller"
    assert evidence["gate"] == "report_errors"
    assert evidence["verdict"] == "fail"
    assert evidence["treatment_mean"] > evidence["holdback_mean"]
    assert evidence["ci_lower"] > evidence["tolerance"]
    assert min(evidence["treatment_n"], evidence["holdback_n"]) > 1_000
    assert max(e.evidence.get("percent", 0) for e in events if e.evidence) == 25


def test_the_backfill_is_complete_and_verified_with_zero_differences(
    demo_store: SqlStore,
) -> None:
    # Given the demo's database / When its backfill job is read
    with demo_store.reading() as uow:
        (job,) = service.list_backfills(uow)

    # Then every row was copied and the verify found nothing different
    assert job.status == "completed"
    assert job.rows_done == job.rows_total == 60_000
    assert job.verify is not None
    assert job.verify["identical"] is True
    assert job.verify["differences"] == []


def test_the_experiment_has_stored_results_that_find_the_simulated_win(
    demo_store: SqlStore,
) -> None:
    # Given the demo's database / When the experiment and its stored results are read
    with demo_store.reading() as uow:
        experiment = service.get_experiment(uow, "production", "search-ranking")
        stored = service.list_experiment_results(uow, "production", "search-ranking")

    # Then it was stopped after its results were computed: valid, and a significant win
    assert experiment.status == "stopped"
    assert stored
    assert stored[0].document["valid"] is True
    assert stored[0].document["significant"] is True


def test_everything_happened_in_the_past_for_a_dashboard_on_the_real_clock(
    demo_store: SqlStore,
) -> None:
    # Given the demo's database, written with a fast clock
    now = SystemClock().now()

    # When the audit log and the plans' events are read
    with demo_store.reading() as uow:
        audit = service.list_audit_events(uow, limit=1000)
        events = [
            event
            for plan in ("hybrid-search", "async-reports")
            for event in service.plan_events(uow, "production", plan)
        ]

    # Then nothing is dated in the future, and the plans' hours lie behind us, in order
    assert all(entry.at <= now for entry in audit)
    assert all(event.at <= now for event in events)
    assert max(e.at for e in events) - min(e.at for e in events) > timedelta(hours=2)


def test_the_demo_serves_the_dashboard_until_sigint_and_exits_0(tmp_path: Path) -> None:
    # Given the demo started with the server on a free port
    port = free_port()
    process = subprocess.Popen(  # noqa: S603  # our own console script, fixed arguments
        [str(RHEOSTAT), "demo", "--port", str(port), "--dir", str(tmp_path / "demo")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "120", "PYTHONUNBUFFERED": "1"},
    )
    try:
        # When /health answers
        health = _wait_for_health(process, f"http://127.0.0.1:{port}/health")

        # Then it shows the kill switch the demo engaged
        assert health["kill_switches"]["production"]["consolidated_metrics"] is True
        assert health["kill_switches"]["production"]["hybrid_search"] is False

        # When Ctrl-C arrives
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    # Then the server stopped cleanly: exit 0, no traceback, the admin key was printed
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert "rh_admin_" in stdout
    assert "stopped" in stdout


def _wait_for_health(process: subprocess.Popen[str], url: str) -> dict[str, object]:
    clock = SystemClock()
    deadline = clock.monotonic() + DEMO_TIMEOUT_S
    while clock.monotonic() < deadline:
        if process.poll() is not None:
            _, stderr = process.communicate()
            pytest.fail(f"the demo exited with {process.returncode} before serving: {stderr}")
        try:
            answer = httpx.get(url, timeout=2)
        except httpx.HTTPError:
            clock.sleep(0.5)
            continue
        body: dict[str, object] = answer.json()
        return body
    pytest.fail("the demo's server did not answer /health in time")


def test_a_taken_port_is_refused_before_the_tour_in_one_line(tmp_path: Path) -> None:
    # Given a port something already listens on
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        # When the demo is asked to serve there
        result = _run_script("demo", "--port", str(port), "--dir", str(tmp_path / "demo"))

    # Then it says so at once, in one line, with exit 2, and has written nothing
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: --port {port}: 127.0.0.1:{port} is taken (Address already in use); "
        "name a free one, or run with --no-serve"
    ]
    assert not (tmp_path / "demo").exists()


def test_the_console_script_reports_errors_in_one_line_with_exit_2(tmp_path: Path) -> None:
    # Given a migrated, empty database named by the environment variable
    env = {"RHEOSTAT_DATABASE_URL": f"sqlite:///{tmp_path / 'rheostat.db'}"}
    assert _run_script("migrate-db", env=env).returncode == 0

    # When an unknown environment is listed
    result = _run_script("flags", "list", "--env", "nowhere", env=env)

    # Then it exits 2 with one error line and no traceback
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["error: environment 'nowhere' does not exist"]
