"""The ``rheostat`` command through Typer's runner, on SQLite and PostgreSQL.

Covers the issue's "done when" from the command line, the ``--json`` output and the exit
statuses: 0 ok, 1 failed, 2 usage error, each error as one red line without a traceback.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from rheostat.cli import app


@pytest.fixture
def rheostat(store_url: str) -> Any:
    """Run ``rheostat ARGS`` on a migrated, empty database; return the result."""
    runner = CliRunner(env={"RHEOSTAT_DATABASE_URL": store_url, "RHEOSTAT_ENV": None})

    def run(*args: str) -> Result:
        return runner.invoke(app, list(args))

    assert run("migrate-db").exit_code == 0
    return run


def _json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_flag_life_cycle_from_the_command_line(rheostat: Any) -> None:
    # Given an environment, an admin key and a flag ramped to 12.5 %
    assert rheostat("env", "create", "production").exit_code == 0
    key = _json(rheostat("keys", "create", "ops", "--scope", "admin", "--json"))
    rheostat("flags", "set", "new-checkout", "--description", "New checkout", "--actor", "alice")
    ramp = rheostat("flags", "rollout", "new-checkout", "12.5", "-r", "canary", "--actor", "alice")

    # When it is killed, the health and history are read, and version 2 is restored
    kill = rheostat("flags", "kill", "new-checkout", "--reason", "errors up", "--actor", "bob")
    health = _json(rheostat("health", "--json"))
    history = _json(rheostat("flags", "history", "new-checkout", "--json"))
    restored = _json(rheostat("flags", "restore", "new-checkout", "2", "-r", "fixed", "--json"))
    status = _json(rheostat("flags", "list", "--json"))

    # Then each step did what it said, with who, when and why recorded
    assert key["api_key"]["scope"] == "admin"
    assert key["token"].startswith("rh_admin_")
    assert "new-checkout rolled out to 12.5% in production (version 2)" in ramp.stdout
    assert "killed in production (version 3)" in kill.stdout
    assert health["kill_switches"] == {"production": {"new-checkout": True}}
    assert [(v["version"], v["actor"], v["reason"]) for v in history] == [
        (3, "bob", "errors up"),
        (2, "alice", "canary"),
        (1, "alice", None),
    ]
    assert all(v["created_at"] for v in history)
    assert restored["version"] == 4
    assert restored["definition"]["enabled"] is True
    assert [(row["key"], row["state"], row["rollout_percent"]) for row in status] == [
        ("new-checkout", "percentage", 12.5)
    ]


def test_a_change_based_on_a_stale_version_fails_with_exit_1(rheostat: Any) -> None:
    # Given a flag changed twice
    rheostat("env", "create", "production")
    rheostat("flags", "set", "new-checkout")
    rheostat("flags", "rollout", "new-checkout", "5")

    # When a change names the version read before the last change
    result = rheostat("flags", "disable", "new-checkout", "--expected-version", "1")

    # Then it fails with one red line and changes nothing
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert "version 2" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert _json(rheostat("flags", "get", "new-checkout", "--json"))["version"] == 2


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("flags", "get", "missing"), id="unknown-flag"),
        pytest.param(("flags", "list", "--env", "nowhere"), id="unknown-environment"),
        pytest.param(("flags", "rollout", "new-checkout", "150"), id="percent-out-of-range"),
        pytest.param(("flags", "rollout", "new-checkout", "lots"), id="percent-not-a-number"),
        pytest.param(("flags", "set", "bad", "-d", '{"variants": {"a": 1}}'), id="bad-definition"),
        pytest.param(("flags", "set", "bad", "-d", "[1, 2]"), id="definition-not-a-mapping"),
        pytest.param(("env", "create", "production"), id="already-exists"),
        pytest.param(("flags", "frobnicate"), id="unknown-command"),
    ],
)
def test_usage_errors_exit_2_without_a_traceback(rheostat: Any, args: tuple[str, ...]) -> None:
    # Given a production environment with one flag
    rheostat("env", "create", "production")
    rheostat("flags", "set", "new-checkout")

    # When a command is given bad input
    result = rheostat(*args)

    # Then it exits 2 and explains on stderr
    assert result.exit_code == 2, result.output
    assert result.stderr.strip()
    assert "Traceback" not in result.output


def test_set_replaces_a_definition_from_a_file(rheostat: Any, tmp_path: Any) -> None:
    # Given a flag, and a document that defines it as a string flag
    rheostat("env", "create", "production")
    rheostat("flags", "set", "checkout-copy")
    document = tmp_path / "flags.yaml"
    document.write_text(
        "flags:\n  checkout-copy:\n    variants: {a: Buy now, b: Order}\n    default: a\n",
        encoding="utf-8",
    )

    # When the flag is set from that file
    result = rheostat("flags", "set", "checkout-copy", "--file", str(document), "--json")

    # Then it is updated to the file's definition
    flag = _json(result)
    assert flag["version"] == 2
    assert flag["definition"]["variants"] == {"a": "Buy now", "b": "Order"}


def test_targets_are_added_and_removed(rheostat: Any) -> None:
    # Given a flag
    rheostat("env", "create", "production")
    rheostat("flags", "set", "new-checkout")

    # When users and a group are targeted, then one user is removed
    added = rheostat("flags", "target", "new-checkout", "-u", "u1", "-u", "u2", "-g", "staff")
    removed = _json(rheostat("flags", "target", "new-checkout", "-u", "u1", "--remove", "--json"))

    # Then the allow-list keeps the others
    assert added.exit_code == 0
    assert removed["definition"]["targets"] == [
        {"variant": "on", "keys": ["u2"], "groups": ["staff"]}
    ]


def test_export_then_import_copies_an_environment(rheostat: Any, tmp_path: Any) -> None:
    # Given production with a ramped flag, and an empty staging
    rheostat("env", "create", "production")
    rheostat("env", "create", "staging")
    rheostat("flags", "set", "new-checkout")
    rheostat("flags", "rollout", "new-checkout", "20")
    exported = tmp_path / "production.yaml"

    # When production is exported to a file and imported into staging (dry run, then real)
    assert rheostat("flags", "export", "-o", str(exported)).exit_code == 0
    dry = rheostat("flags", "import", str(exported), "--env", "staging", "--dry-run")
    real = _json(rheostat("flags", "import", str(exported), "--env", "staging", "--json"))
    staging = _json(rheostat("flags", "list", "--env", "staging", "--json"))

    # Then the dry run said what it would do, and staging now has the same flag
    assert "dry run" in dry.stdout
    assert real["created"] == ["new-checkout"]
    assert [(row["key"], row["rollout_percent"]) for row in staging] == [("new-checkout", 20.0)]


def test_human_output_is_a_table_naming_state_and_rollout(rheostat: Any) -> None:
    # Given a ramped flag
    rheostat("env", "create", "production")
    rheostat("flags", "set", "new-checkout", "--description", "New checkout flow")
    rheostat("flags", "rollout", "new-checkout", "12.5")

    # When the flags are listed for a human
    result = rheostat("flags", "list")

    # Then the table shows the flag, its state and its share
    assert result.exit_code == 0
    row = next(line for line in result.stdout.splitlines() if "new-checkout" in line)
    assert "percentage" in row
    assert "12.5%" in row
