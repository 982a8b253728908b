"""Parallel backfills: worker processes claim key ranges with ``SKIP LOCKED`` on PostgreSQL.

Real ``rheostat backfill run --workers N`` processes: one worker SIGKILLed mid-copy is
replaced and its range taken over; the whole run SIGKILLed mid-copy is resumed by another
number of workers; a single-worker checkpoint is continued in parallel and a parallel one by a
single worker. Each time the target ends identical to the source (row for row, no duplicate
key, and ``verify`` finds zero differences). SQLite refuses more than one worker.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from backfill_data import EXPECTED, create_source, create_target, job_text, query

from rheostat.backfill import job_from_text
from rheostat.runner import CHECKPOINT_TABLE, BackfillRunner
from rheostat.service import migrate_database

ROWS = 30_000
RHEOSTAT = Path(sys.executable).with_name("rheostat")
RANGE_CHECKPOINTS = "rheostat_backfill_range_checkpoints"
DEADLINE_SECONDS = 120.0


PACED_ROWS_PER_SECOND = 1_500
"""Each worker's limit in the tests that kill a run mid-copy: three workers then take several
seconds over the table, so the kill lands while rows are left (unpaced, a quiet machine could
copy all of them before the second progress line)."""


def _setup(url: str, tmp_path: Path, *, rows: int = ROWS, paced: bool = False) -> tuple[Path, str]:
    store = f"sqlite:///{tmp_path / 'r.db'}"
    migrate_database(store)
    create_source(url, rows)
    create_target(url)
    job = tmp_path / "job.yaml"
    text = job_text(url, url, size=150)
    if paced:
        text += f"throttle: {{max_rows_per_second: {PACED_ROWS_PER_SECOND}}}\n"
    job.write_text(text, encoding="utf-8")
    return job, store


def _command(job: Path, store: str, *args: str) -> list[str]:
    return [str(RHEOSTAT), "backfill", *args, str(job), "--database-url", store]


def _done(url: str) -> tuple[int, int]:
    """``(rows the checkpoints count, rows in the target)``, read in one statement."""
    ((counted, target),) = query(
        url,
        f"SELECT (SELECT coalesce(sum(rows_done), 0) FROM {CHECKPOINT_TABLE})"  # noqa: S608
        f" + (SELECT coalesce(sum(rows_done), 0) FROM {RANGE_CHECKPOINTS}),"
        " (SELECT count(*) FROM documents_search)",
    )
    return int(counted), int(target)


def _identical(url: str, job: Path, store: str) -> None:
    source, target = (query(url, sql) for sql in EXPECTED)
    assert len(source) == ROWS
    assert target == source
    assert query(url, "SELECT id FROM documents_search GROUP BY id HAVING count(*) > 1") == []
    verified = subprocess.run(  # noqa: S603 - fixed arguments
        _command(job, store, "verify", "--json"), capture_output=True, text=True, check=False
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert json.loads(verified.stdout)["identical"] is True


def _lines(process: subprocess.Popen[str], count: int) -> dict[str, Any]:
    """Read ``count`` progress lines; return the last."""
    assert process.stdout is not None
    line: dict[str, Any] = {}
    for _ in range(count):
        line = json.loads(process.stdout.readline())
        assert line["event"] == "batch", line
    return line


@pytest.mark.postgres
def test_a_worker_killed_mid_copy_is_replaced_and_its_range_is_taken_over(
    postgres_url: str, tmp_path: Path
) -> None:
    job, store = _setup(postgres_url, tmp_path, paced=True)

    # Given a run with three worker processes that has copied some rows
    process = subprocess.Popen(  # noqa: S603 - fixed arguments
        _command(job, store, "run", "--workers", "3", "--json"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        progress = _lines(process, 2)
        workers = progress["workers"]
        assert len(workers) == 3
        assert 0 < progress["rows_done"] < ROWS

        # When one worker is SIGKILLed in the middle of its range
        os.kill(workers[1], signal.SIGKILL)
        out, err = process.communicate(timeout=DEADLINE_SECONDS)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    # Then the run still completes: another worker took its range over from its checkpoint
    assert process.returncode == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert any(workers[1] not in line.get("workers", [workers[1]]) for line in lines)
    result = lines[-1]
    assert result["event"] == "result"
    assert result["status"] == "completed"
    assert result["rows_done"] == ROWS
    assert "Traceback" not in err
    # and the target is the source, every row once; the ranges were folded into the checkpoint
    _identical(postgres_url, job, store)
    assert query(postgres_url, f"SELECT count(*) FROM {RANGE_CHECKPOINTS}") == [(0,)]  # noqa: S608
    ((rows_done, finished),) = query(
        postgres_url,
        f"SELECT rows_done, finished FROM {CHECKPOINT_TABLE} WHERE job = 'docs'",  # noqa: S608
    )
    assert (rows_done, bool(finished)) == (ROWS, True)


@pytest.mark.postgres
def test_a_parallel_run_killed_whole_is_resumed_by_another_number_of_workers(
    postgres_url: str, tmp_path: Path
) -> None:
    job, store = _setup(postgres_url, tmp_path, paced=True)

    # Given a run with three workers, SIGKILLed whole (the run and its workers) mid-copy
    process = subprocess.Popen(  # noqa: S603 - fixed arguments
        _command(job, store, "run", "--workers", "3", "--json"),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        workers = _lines(process, 2)["workers"]
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        assert process.stdout is not None
        process.stdout.close()
    _wait_gone(workers)

    # Then the target holds exactly the rows the checkpoints count
    counted, target = _done(postgres_url)
    assert counted == target
    assert 0 < target < ROWS

    # When it is resumed with two workers
    resumed = subprocess.run(  # noqa: S603 - fixed arguments
        _command(job, store, "resume", "--workers", "2", "--json"),
        capture_output=True,
        text=True,
        check=False,
        timeout=DEADLINE_SECONDS,
    )

    # Then it copies only what was left, and the target is the source, every row once
    assert resumed.returncode == 0, resumed.stderr
    result = json.loads(resumed.stdout.splitlines()[-1])
    assert result["status"] == "completed"
    assert result["rows_done"] == ROWS
    assert result["rows_copied"] == ROWS - target
    _identical(postgres_url, job, store)


def _wait_gone(pids: list[int]) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    for pid in pids:
        while Path(f"/proc/{pid}").exists() and _state(pid) != "Z":
            assert time.monotonic() < deadline, f"worker {pid} outlived its run"
            time.sleep(0.05)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return "Z"


@pytest.mark.postgres
def test_checkpoints_carry_over_between_one_worker_and_several(
    postgres_url: str, tmp_path: Path
) -> None:
    job_path, store = _setup(postgres_url, tmp_path)
    job = job_from_text(job_path.read_text(encoding="utf-8"), {})

    # Given a single-worker copy stopped after a few batches
    batches = 0

    def after_three() -> bool:
        return batches >= 3

    def count(_report: object) -> None:
        nonlocal batches
        batches += 1

    with BackfillRunner(job) as runner:
        first = runner.run(should_stop=after_three, on_batch=count)
    assert first.status == "stopped"
    assert 0 < first.rows_done < ROWS

    # When two workers continue it, and are stopped once they have copied more
    with BackfillRunner(job) as runner:
        second = runner.run(workers=2, should_stop=lambda: _done(postgres_url)[1] > ROWS // 2)
    assert second.status == "stopped"
    counted, target = _done(postgres_url)
    assert counted == target
    assert first.rows_done < target < ROWS

    # And one worker, in this process, finishes the ranges they left
    with BackfillRunner(job) as runner:
        third = runner.run(resume=True)

    # Then no row was lost or copied twice across the three runs
    assert third.status == "completed"
    assert third.rows_done == ROWS
    assert first.rows_done + second.rows_copied + third.rows_copied == ROWS
    _identical(postgres_url, job_path, store)


def test_sqlite_refuses_more_than_one_worker_with_a_clear_message(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'data.db'}"
    job, store = _setup(url, tmp_path, rows=100)

    # When a run asks for two workers on SQLite
    result = subprocess.run(  # noqa: S603 - fixed arguments
        _command(job, store, "run", "--workers", "2"),
        capture_output=True,
        text=True,
        check=False,
    )

    # Then it is refused as a usage error, saying why, and nothing was copied
    assert result.returncode == 2, result.stdout + result.stderr
    assert "need PostgreSQL" in result.stderr
    assert "--workers 1" in result.stderr
    assert "Traceback" not in result.stderr
    assert query(url, "SELECT count(*) FROM documents_search") == [(0,)]
