"""Parity of a migration's tables, computed in the database, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from migration_data import create_tables, migration_text, run

from rheostat.backfill import job_from_text
from rheostat.errors import StorageError
from rheostat.migrate import ParityAction, ParityLevel, migration_from_text
from rheostat.runner import BackfillRunner
from rheostat.runner.parity import measure_parity

ROWS = 3000


@pytest.fixture
def data_url(store_url: str) -> str:
    create_tables(store_url, ROWS)
    return store_url


def test_a_faithful_copy_is_synced_per_table_and_per_org(data_url: str) -> None:
    # When parity is measured over identical tables
    report = measure_parity(migration_from_text(migration_text(data_url), {}))
    # Then the table and its five orgs are synced
    assert report.is_synced
    assert report.level is ParityLevel.OK
    assert report.table.old.rows == report.table.new.rows == ROWS
    assert sorted(part.group for part in report.groups) == ["1", "2", "3", "4", "5"]
    assert report.action is ParityAction.CONTINUE


def test_missing_rows_of_one_pilot_org_are_judged_per_org(data_url: str) -> None:
    # Given org 2 lost 150 rows in the new table and org 3 lost 20
    run(
        data_url,
        "DELETE FROM revenue_transactions_partitioned WHERE org_id = 2 AND id <= 750",
        "DELETE FROM revenue_transactions_partitioned WHERE org_id = 3 AND id <= 97",
    )
    # When parity is measured for the pilot orgs 2 and 3
    migration = migration_from_text(migration_text(data_url, "pilot: [2, 3]"), {})
    report = measure_parity(migration)
    # Then only the pilot orgs are judged one by one, worst first, with seed 003's thresholds
    assert [(p.group, p.row_delta, p.level) for p in report.groups] == [
        ("2", -150, ParityLevel.WARNING),
        ("3", -20, ParityLevel.DRIFT),
    ]
    assert report.table.row_delta == -170
    assert report.table.level is ParityLevel.WARNING
    assert report.action is ParityAction.INVESTIGATE


def test_a_changed_value_with_equal_counts_is_a_checksum_mismatch(data_url: str) -> None:
    # Given one amount changed in the new table (a broken dual write)
    run(data_url, "UPDATE revenue_transactions_partitioned SET amount = 1.5 WHERE id = 42")
    # When
    report = measure_parity(migration_from_text(migration_text(data_url), {}))
    # Then the counts agree, the checksum does not, for the table and org 3 (42 % 5 + 1)
    assert report.table.row_delta == 0
    assert not report.table.checksum_matches
    assert report.level is ParityLevel.WARNING
    assert [p.group for p in report.groups if not p.checksum_matches] == ["3"]


def test_more_than_a_thousand_missing_rows_is_critical_and_calls_for_rollback(
    data_url: str,
) -> None:
    run(data_url, "DELETE FROM revenue_transactions_partitioned WHERE id > 1900")
    report = measure_parity(migration_from_text(migration_text(data_url), {}))
    assert report.table.row_delta == -1100
    assert report.level is ParityLevel.CRITICAL
    assert report.action is ParityAction.ROLLBACK


def test_parity_sums_are_the_backfill_verify_sums(data_url: str) -> None:
    # Given a backfill job over the same table and columns, verified in one chunk
    job = job_from_text(
        f"""
backfill: revenue-copy
source: {{url: "{data_url}", table: revenue_transactions, key: id}}
target: {{url: "{data_url}", table: revenue_transactions_partitioned, key: id}}
columns: {{id: id, org_id: org_id, amount: amount, note: note}}
""",
        {},
    )
    with BackfillRunner(job) as runner:
        verified = runner.verify(chunk_rows=10 * ROWS)
    run(data_url, "UPDATE revenue_transactions_partitioned SET note = 'x' WHERE id = 7")
    with BackfillRunner(job) as runner:
        differing = runner.verify(chunk_rows=10 * ROWS)
    report = measure_parity(migration_from_text(migration_text(data_url), {}))
    # Then parity computed the very sums the verify did (the same row text and hashes)
    assert verified.report.identical
    assert report.table.old == differing.report.differences[0].source
    assert report.table.new == differing.report.differences[0].target


def test_a_migration_on_two_databases_compares_rows_read_into_python(
    data_url: str, tmp_path: object
) -> None:
    # Given the new table in a second (SQLite) database, with one row missing
    other = f"sqlite:///{tmp_path}/new.db"  # type: ignore[str-bytes-safe]
    create_tables(other, ROWS)
    run(other, "DELETE FROM revenue_transactions_partitioned WHERE id = 5")
    text = migration_text(data_url).replace(
        "new: {table: revenue_transactions_partitioned}",
        f'new: {{url: "{other}", table: revenue_transactions_partitioned}}',
    )
    # When
    report = measure_parity(migration_from_text(text, {}))
    # Then one row is missing from org 1, and nothing else differs
    assert report.table.row_delta == -1
    assert [(p.group, p.row_delta) for p in report.groups if not p.checksum_matches] == [("1", -1)]


def test_a_missing_table_is_a_storage_error_naming_the_side(store_url: str) -> None:
    # (PostgreSQL reads the new table's column types first, so it names the new table)
    with pytest.raises(
        StorageError, match=r"parity: the (old and new|new) table's database failed"
    ):
        measure_parity(migration_from_text(migration_text(store_url), {}))
