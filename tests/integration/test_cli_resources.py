"""``rheostat env``, ``keys``, ``migrate-db`` and ``health`` through Typer's runner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from rheostat.cli import app


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'rheostat.db'}"


@pytest.fixture
def rheostat(url: str) -> Any:
    """Run ``rheostat ARGS --database-url URL`` on a migrated database."""
    runner = CliRunner(env={"RHEOSTAT_DATABASE_URL": None, "RHEOSTAT_ENV": None})

    def run(*args: str) -> Result:
        return runner.invoke(app, [*args, "--database-url", url])

    assert run("migrate-db").exit_code == 0
    return run


def _json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_migrate_db_is_idempotent(rheostat: Any) -> None:
    # Given a migrated database / When it is migrated again
    again = _json(rheostat("migrate-db", "--json"))

    # Then nothing is applied
    assert again == {"applied": []}


def test_environments_are_listed_updated_and_deleted(rheostat: Any) -> None:
    # Given two environments
    rheostat("env", "create", "production", "--description", "live")
    rheostat("env", "create", "staging")

    # When one is renamed and the other deleted
    renamed = _json(rheostat("env", "update", "production", "--name", "Production", "--json"))
    deleted = rheostat("env", "delete", "staging", "--reason", "unused")
    listed = _json(rheostat("env", "list", "--json"))

    # Then the list shows what is left, renamed
    assert renamed["version"] == 2
    assert deleted.exit_code == 0
    assert [(e["key"], e["name"], e["description"]) for e in listed] == [
        ("production", "Production", "live")
    ]


def test_sdk_keys_default_to_the_production_environment_and_can_be_revoked(
    rheostat: Any,
) -> None:
    # Given production
    rheostat("env", "create", "production")

    # When an sdk key is created without naming an environment, then revoked
    created = _json(rheostat("keys", "create", "checkout", "--json"))
    key_id = created["api_key"]["id"]
    revoked = rheostat("keys", "revoke", key_id, "--reason", "rotated")
    active = _json(rheostat("keys", "list", "--active", "--json"))
    every = _json(rheostat("keys", "list", "--json"))

    # Then it read production, and after revoking it is listed only with revoked keys
    assert created["api_key"]["scope"] == "sdk"
    assert created["api_key"]["environment"] == "production"
    assert revoked.exit_code == 0
    assert active == []
    assert every[0]["revoked_at"] is not None


def test_the_token_is_printed_once_for_a_human(rheostat: Any) -> None:
    # Given / When an admin key is created for a human reader
    result = rheostat("keys", "create", "ops", "--scope", "admin")

    # Then the token and the warning are both shown
    assert result.exit_code == 0
    assert "rh_admin_" in result.stdout
    assert "shown only this once" in result.stdout


def test_health_exits_0_when_healthy_and_lists_kill_switches(rheostat: Any) -> None:
    # Given a killed flag
    rheostat("env", "create", "production")
    rheostat("flags", "set", "new-checkout")
    rheostat("flags", "kill", "new-checkout")

    # When health is checked
    result = rheostat("health")

    # Then it is healthy and names the engaged kill switch
    assert result.exit_code == 0
    assert "healthy" in result.stdout
    assert "ENGAGED" in result.stdout


def test_health_exits_1_when_the_database_is_unreachable(tmp_path: Path) -> None:
    # Given a database in a directory that does not exist
    url = f"sqlite:///{tmp_path / 'missing' / 'rheostat.db'}"

    # When health is checked
    result = CliRunner().invoke(app, ["health", "--json", "--database-url", url])

    # Then the check fails with exit 1 and says why
    assert result.exit_code == 1
    assert json.loads(result.stdout)["status"] == "unhealthy"


def test_a_database_without_schema_says_to_run_migrate_db(tmp_path: Path) -> None:
    # Given a database that was never migrated
    url = f"sqlite:///{tmp_path / 'fresh.db'}"

    # When a command reads it
    result = CliRunner().invoke(app, ["flags", "list", "--database-url", url])

    # Then it fails with exit 1 and the fix in the same line
    assert result.exit_code == 1
    assert "rheostat migrate-db" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_database_url_of_an_unsupported_kind_is_a_usage_error() -> None:
    # Given / When a MySQL URL is given
    result = CliRunner().invoke(app, ["flags", "list", "--database-url", "mysql://db/x"])

    # Then it is refused as a usage error naming the URL
    assert result.exit_code == 2
    assert "mysql" in result.stderr
