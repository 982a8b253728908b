"""``rheostat check SUITE.yaml``: exit codes for pass, warn, fail, timeout, crash and a bad
suite file; the Rich table, ``--json``, and the stored run."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rheostat import service
from rheostat.cli import app

PASSING = "  - {name: db, kind: database_reachable}\n"
EXIT = f"[{sys.executable!r}, -c, 'import sys; sys.exit(int(sys.argv[1]))'"
WARNING = f"  - {{name: soft, kind: command, run: {EXIT}, '2'], severity: warn}}\n"
FAILING = f"  - {{name: hard, kind: command, run: {EXIT}, '3']}}\n"
TIMEOUT = f"  - {{name: slow, kind: python, target: '{__name__}:hang', timeout: 300ms}}\n"
CRASH = "  - {name: broken, kind: python, target: 'json:loads', args: {s: '{'}}\n"


def hang() -> bool:
    """A user's check that never answers in time (its thread ends 20 s later)."""
    return threading.Event().wait(20)


@pytest.fixture
def database(sqlite_url: str) -> list[str]:
    service.migrate_database(sqlite_url)
    return ["--database-url", sqlite_url]


def _suite(tmp_path: Path, *checks: str) -> str:
    path = tmp_path / "suite.yaml"
    path.write_text("suite: pre-rollout\nchecks:\n" + "".join(checks), encoding="utf-8")
    return str(path)


def _check(*arguments: str) -> tuple[int, str]:
    result = CliRunner(env={"COLUMNS": "200"}).invoke(app, ["check", *arguments])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("checks", "code", "shown"),
    [
        ((PASSING,), 0, "1 passed, 0 warned, 0 failed"),
        ((PASSING, WARNING), 0, "1 passed, 1 warned, 0 failed"),
        ((PASSING, WARNING, FAILING), 1, "1 passed, 1 warned, 1 failed"),
        ((PASSING, TIMEOUT), 1, "timed out: no answer within 0.3s"),
        ((PASSING, CRASH), 1, "crashed: JSONDecodeError"),
    ],
    ids=["pass", "warn", "fail", "timeout", "crash"],
)
def test_the_exit_code_is_1_only_when_a_check_failed(
    database: list[str], tmp_path: Path, checks: tuple[str, ...], code: int, shown: str
) -> None:
    exit_code, output = _check(_suite(tmp_path, *checks), *database)
    assert exit_code == code, output
    assert shown in output
    assert "suite pre-rollout" in output


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("checks:\n  - {kind: http}\n", "checks[0].url: missing"),
        ("checks:\n  - {kind: redis}\n  - {kind: tcp, host: h, port: 0}\n", "checks[1].port"),
        ("checks: [\n", "not valid YAML"),
        (
            "checks:\n  - {kind: http, url: '${RH_TEST_UNSET_URL}'}\n",
            "RH_TEST_UNSET_URL is not set",
        ),
    ],
)
def test_a_bad_suite_file_exits_2_naming_the_path_without_a_traceback(
    database: list[str], tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    exit_code, output = _check(str(path), *database)
    assert exit_code == 2
    assert message in output
    assert str(path) in output.replace("\n", "")
    assert "Traceback" not in output


def test_a_missing_suite_file_exits_2(database: list[str], tmp_path: Path) -> None:
    exit_code, output = _check(str(tmp_path / "nope.yaml"), *database)
    assert exit_code == 2
    assert "no suite file" in output


def test_json_output_is_the_stored_run(database: list[str], tmp_path: Path) -> None:
    # Given a suite with a passing and a warning check
    exit_code, output = _check(_suite(tmp_path, PASSING, WARNING), "--json", *database)

    # Then the JSON is the run as stored, and the store has it
    assert exit_code == 0
    run = json.loads(output)
    assert run["status"] == "warn"
    assert [r["status"] for r in run["results"]] == ["pass", "warn"]
    assert run["source"] == "cli"
    store = service.open_store(database[1])
    try:
        stored = service.transact(store, service.get_check_run, run["id"])
    finally:
        store.close()
    assert stored.to_document() == run


def test_no_store_runs_without_storing(database: list[str], tmp_path: Path) -> None:
    exit_code, output = _check(_suite(tmp_path, PASSING), "--json", "--no-store", *database)
    assert exit_code == 0
    assert json.loads(output)["id"] == 0
    store = service.open_store(database[1])
    try:
        assert service.transact(store, service.list_check_runs) == []
    finally:
        store.close()


def test_a_database_that_cannot_store_the_run_is_a_warning(tmp_path: Path) -> None:
    # Given a database without rheostat's schema (never migrated)
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    suite = _suite(tmp_path, WARNING)

    # When a suite runs against it
    result = CliRunner(env={"COLUMNS": "200"}).invoke(
        app, ["check", suite, "--database-url", empty]
    )

    # Then the checks' result decides the exit code, and the lost run is a warning
    assert result.exit_code == 0, result.output
    assert "warning: the run was not stored" in result.output
    assert "(not stored)" in result.output
