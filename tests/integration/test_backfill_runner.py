"""The backfill runner on real databases: copy, resume, refuse, verify, repair, pause, lease.

Each test runs once on SQLite and once on PostgreSQL (marked ``postgres``). The job's source
and target live in the store's database, or for the cross-database cases in a second SQLite
file, so both strategies (server-side ``INSERT ... SELECT`` and streamed executemany) run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from backfill_data import EXPECTED, create_source, create_target, execute, job_text, query

from rheostat import service
from rheostat.backfill import Strategy, job_from_text
from rheostat.errors import ConfigurationError, Conflict, NotFound, ValidationError
from rheostat.runner import CHECKPOINT_TABLE, BackfillRunner, BatchReport
from rheostat.service import Change, SqlStore

ROWS = 1234


@pytest.fixture
def data_url(store: SqlStore, store_url: str) -> str:
    """The job's database: the store's own, holding ``documents`` and an empty target."""
    del store  # migrated first
    create_source(store_url, ROWS)
    create_target(store_url)
    return store_url


def _runner(source: str, target: str, store: SqlStore | None, **kw: Any) -> BackfillRunner:
    size = kw.pop("size", 100)
    runner = BackfillRunner(
        job_from_text(job_text(source, target, size=size), {}), store=store, **kw
    )
    runner.mirror_seconds = 0  # every batch reaches the store, so tests can count them
    return runner


def _assert_identical(source: str, target: str) -> None:
    assert query(source, EXPECTED[0]) == query(target, EXPECTED[1])


def test_a_server_side_run_copies_every_row_once_and_verifies(
    data_url: str, store: SqlStore
) -> None:
    reports: list[BatchReport] = []
    with _runner(data_url, data_url, store) as runner:
        assert runner.strategy is Strategy.SERVER_SIDE

        result = runner.run(on_batch=reports.append)
        outcome = runner.verify(chunk_rows=300)

    _assert_identical(data_url, data_url)
    assert result.status == "completed"
    assert result.rows_done == ROWS
    assert result.rows_copied == ROWS
    assert [r.rows_done for r in reports] == sorted(r.rows_done for r in reports)
    assert reports[-1].finished
    assert outcome.identical
    assert outcome.report.source_rows == ROWS
    assert outcome.report.chunks == 5
    assert outcome.mode == "database"
    with store.reading() as uow:
        record = service.get_backfill(uow, "docs")
        checkpoints = service.backfill_checkpoints(uow, "docs", limit=1000)
    assert record.status == "completed"
    assert record.rows_done == ROWS
    assert record.lease_owner is None
    assert record.verify is not None
    assert record.verify["identical"] is True
    assert [c.rows_done for c in reversed(checkpoints)] == [r.rows_done for r in reports]


def test_a_stopped_run_resumes_where_it_stopped(data_url: str, store: SqlStore) -> None:
    batches: list[BatchReport] = []
    with _runner(data_url, data_url, store, size=50) as runner:
        stopped = runner.run(should_stop=lambda: len(batches) >= 3, on_batch=batches.append)
        assert stopped.status == "stopped"
        assert stopped.rows_done == 150
        assert query(data_url, "SELECT count(*) FROM documents_search") == [(150,)]

    with _runner(data_url, data_url, store, size=50) as runner:
        resumed = runner.run(resume=True)
        again = runner.run()

    _assert_identical(data_url, data_url)
    assert resumed.status == "completed"
    assert resumed.rows_copied == ROWS - 150
    assert resumed.rows_done == ROWS
    assert again.status == "completed"
    assert again.rows_copied == 0


def test_streamed_across_databases_with_a_transform(
    data_url: str, store: SqlStore, tmp_path: Path
) -> None:
    other = f"sqlite:///{tmp_path / 'search.db'}"
    create_target(other)
    seen: list[int] = []

    def shout(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        seen.append(len(rows))
        return [{**row, "title": str(row["title"]).upper()} for row in rows]

    with _runner(data_url, other, store, transform=shout, size=200) as runner:
        assert runner.strategy is Strategy.STREAMED
        result = runner.run()
        outcome = runner.verify()

    source = query(data_url, EXPECTED[0])
    assert query(other, EXPECTED[1]) == [(i, t.upper(), n) for i, t, n in source]
    assert result.rows_done == ROWS
    assert sum(seen) >= ROWS
    assert outcome.mode == "python"
    assert outcome.identical


def test_resuming_with_changed_columns_is_refused_and_restart_starts_over(
    data_url: str, store: SqlStore
) -> None:
    with _runner(data_url, data_url, store, size=100) as runner:
        runner.run(should_stop=iter([False, True]).__next__)
    changed = job_text(data_url, data_url).replace('"length(body)"', '"length(title)"')

    with BackfillRunner(job_from_text(changed, {}), store=store) as runner:
        with pytest.raises(ValidationError, match="another columns") as refused:
            runner.run()
        assert refused.value.details["changed"] == ["columns"]
        result = runner.run(restart=True)

    assert result.rows_done == ROWS
    assert query(data_url, "SELECT count(*) FROM documents_search") == [(ROWS,)]


def test_resume_without_a_checkpoint_is_refused(data_url: str) -> None:
    with _runner(data_url, data_url, None) as runner, pytest.raises(NotFound, match="run"):
        runner.run(resume=True)


def test_verify_finds_changed_lost_and_extra_rows_and_repair_fixes_only_them(
    data_url: str, store: SqlStore
) -> None:
    with _runner(data_url, data_url, store) as runner:
        runner.run()
    execute(data_url, "UPDATE documents_search SET title = 'wrong' WHERE id = 10")
    execute(data_url, "DELETE FROM documents_search WHERE id = 500")
    execute(data_url, "INSERT INTO documents_search VALUES (999999, 'extra', 1)")

    with _runner(data_url, data_url, store) as runner:
        found = runner.verify(chunk_rows=100)
        repaired = runner.verify(chunk_rows=100, repair=True)
        clean = runner.verify(chunk_rows=100)

    assert not found.identical
    assert found.to_dict()["cut_over"] == "refused"
    assert len(found.report.differences) == 3
    assert found.report.target_rows == ROWS
    assert repaired.repaired == 3
    assert repaired.after_repair is not None
    assert repaired.identical
    assert clean.identical
    assert clean.to_dict()["cut_over"] == "allowed"
    _assert_identical(data_url, data_url)


def test_dry_run_counts_and_estimates_without_writing(data_url: str) -> None:
    with _runner(data_url, data_url, None, size=100) as runner:
        report = runner.dry_run()

    assert report.rows_total == ROWS
    assert report.sample_rows == 100
    assert report.estimated_seconds is not None
    assert not report.checkpoint
    assert query(data_url, "SELECT count(*) FROM documents_search") == [(0,)]


def test_a_pause_request_stops_the_run_at_the_next_batch(data_url: str, store: SqlStore) -> None:
    change = Change(actor="ops", reason="peak hours")

    def pause_once(report: BatchReport) -> None:
        if report.batch == 2:
            service.transact(store, service.pause_backfill, "docs", change=change)

    with _runner(data_url, data_url, store) as runner:
        paused = runner.run(on_batch=pause_once)
        with store.reading() as uow:
            status = service.get_backfill(uow, "docs").status
        resumed = runner.run()

    # asked during batch 2's report, seen when batch 3 is mirrored: it stops after batch 3
    assert paused.status == "paused"
    assert paused.rows_done == 300
    assert status == "paused"
    assert resumed.status == "completed"
    _assert_identical(data_url, data_url)


def test_a_second_worker_is_refused_while_the_first_holds_the_lease(
    data_url: str, store: SqlStore
) -> None:
    refusals: list[str] = []

    def second_worker(report: BatchReport) -> None:
        if report.batch == 1:
            with _runner(data_url, data_url, store, worker="other:1") as other:
                try:
                    other.run()
                except Conflict as error:
                    refusals.append(error.message)

    with _runner(data_url, data_url, store, worker="first:1") as runner:
        result = runner.run(on_batch=second_worker)

    assert result.rows_done == ROWS
    assert len(refusals) == 1
    assert "first:1" in refusals[0]


def test_a_target_without_a_unique_key_is_refused(store: SqlStore, store_url: str) -> None:
    create_source(store_url, 10)
    create_target(store_url, unique=False)

    with (
        _runner(store_url, store_url, store) as runner,
        pytest.raises(ConfigurationError, match="primary key or unique index"),
    ):
        runner.run()
    assert CHECKPOINT_TABLE not in {row[0] for row in query(store_url, _TABLES[store_url[:6]])}


_TABLES = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'table'",
    "postgr": "SELECT tablename FROM pg_tables",
}


def test_a_missing_target_table_or_column_is_named(store: SqlStore, store_url: str) -> None:
    create_source(store_url, 10)
    with _runner(store_url, store_url, store) as runner:
        with pytest.raises(ConfigurationError, match=r"target\.table: no table"):
            runner.run()
        execute(store_url, "CREATE TABLE documents_search (id BIGINT PRIMARY KEY, title TEXT)")
        with pytest.raises(ConfigurationError, match="no column 'body_length'"):
            runner.dry_run()


def test_a_transform_that_drops_rows_does_not_end_the_copy_early(
    data_url: str, store: SqlStore, tmp_path: Path
) -> None:
    other = f"sqlite:///{tmp_path / 'even.db'}"
    create_target(other)

    def evens(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [row for row in reversed(rows) if row["id"] % 2 == 0]

    with _runner(data_url, other, store, transform=evens, size=100) as runner:
        result = runner.run()
        outcome = runner.verify()

    source = query(data_url, EXPECTED[0])
    assert query(other, EXPECTED[1]) == [row for row in source if row[0] % 2 == 0]
    assert result.rows_done == ROWS  # source rows read, every batch full until the end
    assert outcome.identical
