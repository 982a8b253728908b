"""``rheostat migrate ...`` on SQLite: parity exit codes and JSON, --record into the store,
status, stage flags, and no traceback for a bad file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from migration_data import create_tables, migration_text, run
from typer.testing import CliRunner, Result

from rheostat.cli.app import app
from rheostat.service import migrate_database


@pytest.fixture
def migration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A migration over a SQLite file named by ``$APP_DB``, and a migrated store with an
    environment ``production``."""
    data = f"sqlite:///{tmp_path / 'app.db'}"
    create_tables(data, 1200)
    store = f"sqlite:///{tmp_path / 'rheostat.db'}"
    migrate_database(store)
    monkeypatch.setenv("RHEOSTAT_DATABASE_URL", store)
    monkeypatch.setenv("APP_DB", data)
    assert _invoke_root("env", "create", "production").exit_code == 0
    path = tmp_path / "revenue.yaml"
    path.write_text(migration_text("${APP_DB}", "pilot: [1, 2]"), encoding="utf-8")
    return path


def _invoke_root(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def _invoke(*args: str) -> Result:
    return _invoke_root("migrate", *args)


def test_parity_of_a_faithful_copy_exits_0(migration: Path) -> None:
    result = _invoke("parity", str(migration), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["level"], report["synced"], report["row_delta"]) == ("ok", True, 0)
    assert [group["group"] for group in report["groups"]] == ["1", "2"]


def test_parity_exits_1_at_critical_and_record_feeds_status_and_alerts(migration: Path) -> None:
    # Given 1100 rows missing from the new table
    data = f"sqlite:///{migration.parent / 'app.db'}"
    run(data, "DELETE FROM revenue_transactions_partitioned WHERE id > 100")
    # When parity is measured and recorded, as a table
    measured = _invoke("parity", str(migration), "--record")
    status = _invoke("status", "--json")
    alerts = _invoke_root("alerts", "list", "--json")
    # Then it failed, showed the action, and the store has the run and a critical alert
    assert measured.exit_code == 1, measured.output
    assert "critical: rollback" in measured.stdout
    assert "org_id=1" in measured.stdout
    [newest] = json.loads(status.stdout)
    assert (newest["migration"], newest["level"], newest["row_delta"]) == (
        "revenue",
        "critical",
        -1100,
    )
    assert alerts.exit_code == 0, alerts.output
    assert "migration.parity" in alerts.stdout


def test_flags_creates_the_stage_flags_once(migration: Path) -> None:
    first = _invoke("flags", "revenue", "--json")
    second = _invoke("flags", "revenue")
    assert first.exit_code == 0, first.output
    assert len(json.loads(first.stdout)["created"]) == 5
    assert "exist already" in second.stdout
    listed = _invoke_root("flags", "list", "--json")
    assert "migrate.revenue.live" in listed.stdout


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("migration: revenue\nold: {url: '${NOT_SET_ANYWHERE}', table: a}\n", "old.url"),
        ("migration: revenue\nold: {url: 'sqlite://', table: a}\nnew: {table: b}\n", "columns"),
        ("- not a mapping\n", "must be a mapping"),
    ],
)
def test_a_bad_migration_file_exits_2_naming_the_field_without_a_traceback(
    migration: Path, text: str, path: str
) -> None:
    migration.write_text(text, encoding="utf-8")
    result = _invoke("parity", str(migration))
    assert result.exit_code == 2
    assert path in result.stderr
    assert "Traceback" not in result.output


def test_a_missing_table_exits_1_with_one_line(migration: Path) -> None:
    data = f"sqlite:///{migration.parent / 'app.db'}"
    run(data, "DROP TABLE revenue_transactions_partitioned")
    result = _invoke("parity", str(migration))
    assert result.exit_code == 1
    assert "no such table" in result.stderr
    assert "Traceback" not in result.output
