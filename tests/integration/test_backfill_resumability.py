"""Proof of resumability: a real ``rheostat backfill run`` process, SIGKILLed at random points
several times and resumed, ends with every row copied exactly once.

After each kill the target holds exactly the rows its checkpoint counts (the batch and its
checkpoint commit together or not at all) and the checkpoint never moves back; at the end the
target equals the source row for row, ``verify`` finds zero differences and no key is
duplicated. Runs on SQLite (server-side copy in one file, and streamed between two files) and
on PostgreSQL with 50,000 rows.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from backfill_data import EXPECTED, create_source, create_target, job_text, query

from rheostat.runner import CHECKPOINT_TABLE
from rheostat.service import migrate_database

ROWS = 50_000
KILLS = 4
RHEOSTAT = Path(sys.executable).with_name("rheostat")


@dataclass(frozen=True)
class Setup:
    """Where the job reads and writes, and rheostat's store."""

    source: str
    target: str
    store: str


@pytest.fixture(
    params=[
        "sqlite-server-side",
        "sqlite-streamed",
        pytest.param("postgres-server-side", marks=pytest.mark.postgres),
    ]
)
def setup(request: pytest.FixtureRequest, tmp_path: Path) -> Setup:
    """Source rows, an empty target and a migrated store for one variant."""
    if request.param.startswith("postgres"):
        url: str = request.getfixturevalue("postgres_url")
        chosen = Setup(source=url, target=url, store=url)
    else:
        source = f"sqlite:///{tmp_path / 'data.db'}"
        target = (
            source
            if request.param.endswith("server-side")
            else f"sqlite:///{tmp_path / 'search.db'}"
        )
        chosen = Setup(source=source, target=target, store=f"sqlite:///{tmp_path / 'r.db'}")
    migrate_database(chosen.store)
    create_source(chosen.source, ROWS)
    create_target(chosen.target)
    return chosen


def _command(job: Path, store: str, *args: str) -> list[str]:
    return [str(RHEOSTAT), "backfill", *args, str(job), "--database-url", store]


def _checkpoint(target: str) -> tuple[int, list[int] | None, int]:
    """``(rows_done, last_key, target rows)`` read in one statement."""
    ((rows_done, last_key, target_rows),) = query(
        target,
        f"SELECT rows_done, last_key, (SELECT count(*) FROM documents_search) "  # noqa: S608
        f"FROM {CHECKPOINT_TABLE} WHERE job = 'docs'",
    )
    return int(rows_done), None if last_key is None else json.loads(last_key), int(target_rows)


def _run_until_killed(command: list[str], rng: random.Random) -> None:
    """Start the copy, let it commit a random number of batches, then SIGKILL it at a random
    moment of the next ones."""
    process = subprocess.Popen(  # noqa: S603 - fixed arguments
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert process.stdout is not None
    try:
        for _ in range(rng.randint(1, 8)):
            line = process.stdout.readline()
            assert json.loads(line)["event"] == "batch", line
        # a random instant: sometimes between batches, often inside one
        for _ in range(rng.randint(0, 20_000)):
            pass
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        process.stdout.close()
    assert process.returncode == -signal.SIGKILL


def test_a_backfill_killed_at_random_points_and_resumed_copies_every_row_once(
    setup: Setup, tmp_path: Path
) -> None:
    rng = random.Random(11)  # noqa: S311 - reproducible kill points, not security
    job = tmp_path / "job.yaml"
    job.write_text(job_text(setup.source, setup.target, size=400), encoding="utf-8")
    run = _command(job, setup.store, "run", "--json")

    # Given a copy killed with SIGKILL at random points, four times
    seen: list[tuple[int, list[int] | None]] = []
    for _ in range(KILLS):
        _run_until_killed(run, rng)
        rows_done, last_key, target_rows = _checkpoint(setup.target)
        # Then each time the target holds exactly the rows the checkpoint counts
        assert target_rows == rows_done
        seen.append((rows_done, last_key))
    # and the checkpoint only ever moved forward
    assert seen == sorted(seen, key=lambda item: item[0])
    assert [key for _, key in seen] == sorted(key for _, key in seen if key is not None)
    assert 0 < seen[-1][0] < ROWS

    # When it is resumed
    resumed = subprocess.run(  # noqa: S603 - fixed arguments
        _command(job, setup.store, "resume", "--json"),
        capture_output=True,
        text=True,
        check=False,
    )

    # Then it completes from where the last kill left it, and nothing is missing or doubled
    assert resumed.returncode == 0, resumed.stderr
    result = json.loads(resumed.stdout.splitlines()[-1])
    assert result["status"] == "completed"
    assert result["rows_done"] == ROWS
    assert result["rows_copied"] == ROWS - seen[-1][0]
    assert query(setup.source, EXPECTED[0]) == query(setup.target, EXPECTED[1])
    duplicates = "SELECT id FROM documents_search GROUP BY id HAVING count(*) > 1"
    assert query(setup.target, duplicates) == []
    verified = subprocess.run(  # noqa: S603 - fixed arguments
        _command(job, setup.store, "verify", "--json"),
        capture_output=True,
        text=True,
        check=False,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert json.loads(verified.stdout)["identical"] is True
    # and the progress rheostat's store mirrored never went back either
    history = [
        row[0]
        for row in query(setup.store, "SELECT rows_done FROM backfill_checkpoints ORDER BY id")
    ]
    assert history == sorted(history)
    assert history[-1] == ROWS


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_sigint_and_sigterm_stop_the_copy_cleanly_at_a_batch_boundary(
    signum: signal.Signals, tmp_path: Path
) -> None:
    data = f"sqlite:///{tmp_path / 'data.db'}"
    store = f"sqlite:///{tmp_path / 'r.db'}"
    migrate_database(store)
    create_source(data, ROWS)
    create_target(data)
    job = tmp_path / "job.yaml"
    job.write_text(job_text(data, data, size=200), encoding="utf-8")

    # Given a copy that has committed a few batches
    process = subprocess.Popen(  # noqa: S603 - fixed arguments
        _command(job, store, "run", "--json"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    for _ in range(3):
        assert json.loads(process.stdout.readline())["event"] == "batch"

    # When it is signalled
    process.send_signal(signum)
    out, err = process.communicate(timeout=120)

    # Then it stops after the batch in flight, says so, and exits 1 (not complete)
    assert process.returncode == 1, err
    result = json.loads(out.splitlines()[-1])
    assert result["event"] == "result"
    assert result["status"] == "stopped"
    assert "Traceback" not in err
    rows_done, _, target_rows = _checkpoint(data)
    assert rows_done == result["rows_done"] == target_rows
    assert rows_done < ROWS
    status = subprocess.run(  # noqa: S603 - fixed arguments
        _command(job, store, "status", "--json"), capture_output=True, text=True, check=True
    )
    shown = json.loads(status.stdout)
    assert shown["status"] == "stopped"
    assert shown["worker"] is None
    assert shown["rows_done"] == rows_done
