"""``rheostat backfill ...`` on SQLite: exit codes, JSON, and no traceback for a bad job."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from backfill_data import create_source, create_target, execute, job_text, query
from typer.testing import CliRunner, Result

from rheostat.cli.app import app
from rheostat.service import migrate_database

ROWS = 500


@pytest.fixture
def job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A job over a SQLite file named by ``$DATA_URL``, a migrated store, and the cwd in tmp."""
    data = f"sqlite:///{tmp_path / 'data.db'}"
    create_source(data, ROWS)
    create_target(data)
    store = f"sqlite:///{tmp_path / 'rheostat.db'}"
    migrate_database(store)
    monkeypatch.setenv("RHEOSTAT_DATABASE_URL", store)
    monkeypatch.setenv("DATA_URL", data)
    path = tmp_path / "job.yaml"
    path.write_text(job_text("${DATA_URL}", "${DATA_URL}", size=64), encoding="utf-8")
    return path


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(app, ["backfill", *args])


def test_run_prints_json_lines_and_status_reports_completion(job: Path) -> None:
    ran = _invoke("run", str(job), "--json")
    status = _invoke("status", str(job), "--json")

    assert ran.exit_code == 0, ran.output
    lines = [json.loads(line) for line in ran.stdout.splitlines()]
    assert lines[-1]["event"] == "result"
    assert lines[-1]["status"] == "completed"
    assert lines[-1]["rows_done"] == ROWS
    assert {line["event"] for line in lines[:-1]} == {"batch"}
    assert status.exit_code == 0, status.output
    assert json.loads(status.stdout)["status"] == "completed"
    assert json.loads(status.stdout)["percent"] == 100.0


def test_verify_exits_1_on_a_difference_and_0_after_repair(job: Path) -> None:
    assert _invoke("run", str(job)).exit_code == 0
    data = f"sqlite:///{job.parent / 'data.db'}"
    execute(data, "DELETE FROM documents_search WHERE id = 100")

    found = _invoke("verify", str(job), "--json")
    repaired = _invoke("verify", str(job), "--repair")
    clean = _invoke("verify", str(job), "--json")

    assert found.exit_code == 1, found.output
    assert json.loads(found.stdout)["cut_over"] == "refused"
    assert repaired.exit_code == 0, repaired.output
    assert "cut-over allowed" in repaired.stdout
    assert json.loads(clean.stdout)["identical"] is True
    assert query(data, "SELECT count(*) FROM documents_search") == [(ROWS,)]


def test_run_with_verify_copies_then_proves_the_copy_and_exits_1_on_a_difference(
    job: Path,
) -> None:
    # Given a copy run with --verify, then a target row changed behind it
    ran = _invoke("run", str(job), "--json", "--verify")
    data = f"sqlite:///{job.parent / 'data.db'}"
    execute(data, "UPDATE documents_search SET title = 'changed' WHERE id = 100")
    again = _invoke("run", str(job), "--verify")
    status = _invoke("status", str(job), "--json")

    # Then the first run ended with an identical verify, the second (nothing left to copy)
    # found the difference and exited 1, and the store keeps the verify with its time
    assert ran.exit_code == 0, ran.output
    lines = [json.loads(line) for line in ran.stdout.splitlines()]
    assert [line["event"] for line in lines[-2:]] == ["result", "verify"]
    assert lines[-1]["identical"] is True
    assert again.exit_code == 1, again.output
    assert "differences found: no cut-over" in again.stdout
    verify = json.loads(status.stdout)["verify"]
    assert verify["identical"] is False
    assert verify["verified_at"]


def test_plan_and_dry_run_write_nothing(job: Path) -> None:
    planned = _invoke("plan", str(job), "--json")
    dry = _invoke("dry-run", str(job), "--json")

    assert planned.exit_code == 0, planned.output
    assert json.loads(planned.stdout)["strategy"] == "server_side"
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.stdout)["rows_total"] == ROWS
    data = f"sqlite:///{job.parent / 'data.db'}"
    assert query(data, "SELECT count(*) FROM documents_search") == [(0,)]


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("backfill: [unclosed", "job.yaml"),
        ("backfill: x\nsource: {url: 'sqlite:///a.db', key: id}\n", "source.table"),
        ("backfill: x\nsource: {url: '${NOT_SET_ANYWHERE}', table: a, key: id}\n", "source.url"),
    ],
)
def test_a_bad_job_file_exits_2_naming_the_path_without_a_traceback(
    job: Path, text: str, path: str
) -> None:
    job.write_text(text, encoding="utf-8")

    result = _invoke("run", str(job))

    assert result.exit_code == 2
    assert path in result.stderr
    assert "Traceback" not in result.output


def test_resume_without_a_checkpoint_and_status_of_an_unknown_job_exit_2(job: Path) -> None:
    resumed = _invoke("resume", str(job))
    status = _invoke("status", str(job))

    assert resumed.exit_code == 2
    assert "nothing to resume" in resumed.stderr
    assert status.exit_code == 2


def test_pause_refuses_a_completed_job(job: Path) -> None:
    _invoke("run", str(job))
    paused = _invoke("pause", str(job), "--reason", "peak")

    assert paused.exit_code == 1
    assert "already completed" in paused.stderr
