"""``rheostat demo`` and the installed console script, run for real."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from rheostat.cli import app

RHEOSTAT = Path(sys.executable).with_name("rheostat")


def _run_script(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603  # our own console script, fixed arguments
        [str(RHEOSTAT), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "COLUMNS": "120", **(env or {})},
    )


def test_the_demo_walks_through_the_life_cycle_on_a_temporary_database() -> None:
    # Given / When the demo runs with no options
    result = CliRunner().invoke(app, ["demo"])

    # Then it exits 0 after every step, the users come back after the restore
    assert result.exit_code == 0, result.output
    output = result.stdout
    for step in (
        "1. Create the production",
        "3. Errors climb",
        "4. What GET /health",
        "6. The fix",
    ):
        assert step in output
    assert "ENGAGED" in output
    assert "checkout errors up 4x" in output
    assert "0 of 10,000 users" in output
    assert "the very same users have it again" in output
    assert "what next" in output


def test_the_demo_runs_an_ab_test_with_honest_results() -> None:
    # Given / When the demo runs
    result = CliRunner().invoke(app, ["demo"], env={"COLUMNS": "160"})

    # Then its A/B act records traffic once, and the simulated wins are found and valid
    assert result.exit_code == 0, result.output
    output = result.stdout
    assert "search-ranking started" in output
    assert "0 recorded, 100 recognised as duplicates" in output
    assert "valid, significant difference" in output
    assert "search-ranking stopped" in output


def test_the_demo_keeps_its_data_in_a_database_it_is_given(tmp_path: Path) -> None:
    # Given a database URL
    url = f"sqlite:///{tmp_path / 'demo.db'}"

    # When the demo runs on it and the flag is read back afterwards
    demo = CliRunner().invoke(app, ["demo", "--database-url", url, "--users", "1000"])
    after = CliRunner().invoke(
        app, ["flags", "get", "new-checkout", "--database-url", url, "--json"]
    )

    # Then the restored flag is there, at version 4
    assert demo.exit_code == 0, demo.output
    assert json.loads(after.stdout)["version"] == 4


def test_the_console_script_runs_the_demo() -> None:
    # Given the installed `rheostat` script / When `rheostat demo` runs in a real process
    result = _run_script("demo")

    # Then it finishes cleanly with readable output
    assert result.returncode == 0, result.stderr
    assert "the very same users have it again" in result.stdout
    assert "Traceback" not in result.stderr


def test_the_console_script_reports_errors_in_one_line_with_exit_2(tmp_path: Path) -> None:
    # Given a migrated, empty database named by the environment variable
    env = {"RHEOSTAT_DATABASE_URL": f"sqlite:///{tmp_path / 'rheostat.db'}"}
    assert _run_script("migrate-db", env=env).returncode == 0

    # When an unknown environment is listed
    result = _run_script("flags", "list", "--env", "nowhere", env=env)

    # Then it exits 2 with one error line and no traceback
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["error: environment 'nowhere' does not exist"]
