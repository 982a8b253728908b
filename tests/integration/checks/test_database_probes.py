"""The database and store-backed kinds on a real SQLite file and a real PostgreSQL database:
reachability, schema, Alembic, EXPLAIN, SQL conditions, metric windows, flags and plans."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from rheostat import service
from rheostat.checks import CheckResult, parse_suite, run_suite
from rheostat.clock import FixedClock, SystemClock
from rheostat.metrics import WindowKind
from rheostat.metrics.windows import MetricWindow
from rheostat.rollout import HoldbackGate, Plan, RampStage, ThresholdGate
from rheostat.service import Change, SqlStore, transact

ENV = "production"
ROWS = 5000


@pytest.fixture
def app_store(store: SqlStore) -> SqlStore:
    """rheostat's database, also holding an application's ``documents`` table."""
    with store.engine.begin() as connection:
        connection.execute(
            text("CREATE TABLE documents (id INTEGER PRIMARY KEY, org_id INTEGER, title TEXT)")
        )
        connection.execute(text("CREATE INDEX ix_documents_org ON documents (org_id)"))
        connection.execute(
            text("INSERT INTO documents (id, org_id, title) VALUES (:id, :org, :title)"),
            [{"id": i, "org": i % 1000, "title": f"doc {i}"} for i in range(ROWS)],
        )
        connection.execute(text("ANALYZE"))
    return store


def _run(store: SqlStore, *checks: dict[str, Any]) -> list[CheckResult]:
    suite = parse_suite({"checks": list(checks)}, environ={})
    registry = service.check_registry(store)
    return list(run_suite(suite, registry, monotonic=SystemClock().monotonic))


def _statuses(results: list[CheckResult]) -> list[str]:
    return [result.status.value for result in results]


def test_database_reachable_own_and_by_url(app_store: SqlStore, tmp_path: Path) -> None:
    results = _run(
        app_store,
        {"name": "own", "kind": "database_reachable"},
        {"name": "same", "kind": "database_reachable", "url": app_store.url},
        {"name": "absent", "kind": "database_reachable", "url": f"sqlite:///{tmp_path}/no.db"},
        {"name": "mysql", "kind": "database_reachable", "url": "mysql://h/db"},
    )
    assert _statuses(results) == ["pass", "pass", "fail", "fail"]
    assert results[0].evidence["dialect"] == app_store.dialect
    assert not (tmp_path / "no.db").exists()


def test_schema_names_what_is_missing(app_store: SqlStore) -> None:
    results = _run(
        app_store,
        {
            "name": "ok",
            "kind": "schema",
            "tables": ["flags", "documents"],
            "columns": {"documents": ["id", "org_id"]},
            "indexes": {"documents": ["ix_documents_org"]},
            "alembic": "head",
        },
        {
            "name": "gaps",
            "kind": "schema",
            "tables": ["documents", "extracted_tables"],
            "columns": {"documents": ["id", "bbox"], "ghost": ["x"]},
            "indexes": {"documents": ["ix_missing"]},
        },
        {"name": "behind", "kind": "schema", "alembic": "0001"},
    )
    assert _statuses(results) == ["pass", "fail", "fail"]
    assert results[0].evidence["alembic_current"] == results[0].evidence["alembic_expected"]
    assert results[1].evidence["missing"] == {
        "tables": ["extracted_tables"],
        "columns": {"documents": ["bbox"], "ghost": ["x"]},
        "indexes": {"documents": ["ix_missing"]},
    }
    assert "0001 expected" in results[2].message


def test_index_used_reads_the_query_plan(app_store: SqlStore) -> None:
    results = _run(
        app_store,
        {
            "name": "by-org",
            "kind": "index_used",
            "index": "ix_documents_org",
            "query": "SELECT * FROM documents WHERE org_id = :org",
            "params": {"org": 7},
        },
        {
            "name": "by-title",
            "kind": "index_used",
            "index": "ix_documents_org",
            "query": "SELECT * FROM documents WHERE title = 'doc 7'",
        },
    )
    assert _statuses(results) == ["pass", "fail"]
    assert results[0].evidence["indexes_used"] == ["ix_documents_org"]
    assert "does not use ix_documents_org" in results[1].message


def test_sql_conditions_and_read_only(app_store: SqlStore) -> None:
    results = _run(
        app_store,
        {
            "name": "count",
            "kind": "sql",
            "query": "SELECT count(*) FROM documents",
            "expect": f"== {ROWS}",
        },
        {"name": "none", "kind": "sql", "query": "SELECT count(*) FROM documents WHERE org_id < 0"},
        {
            "name": "text",
            "kind": "sql",
            "query": "SELECT title FROM documents WHERE id = 3",
            "expect": "== 'doc 3'",
        },
        {"name": "wrong", "kind": "sql", "query": "SELECT nope FROM documents"},
        {"name": "write", "kind": "sql", "query": "DELETE FROM documents"},
    )
    assert _statuses(results) == ["pass", "fail", "pass", "fail", "fail"]
    assert results[0].evidence == {"value": ROWS, "expect": f"== {ROWS}"}
    assert results[3].message.startswith("the database failed")
    with app_store.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM documents")).scalar() == ROWS


def test_metric_baseline_and_flags_defined_read_the_store(
    store: SqlStore, clock: FixedClock
) -> None:
    # Given a flag with latency windows recorded ten minutes ago
    transact(store, service.create_environment, ENV, change=Change(actor="t"))
    transact(store, service.create_flag, ENV, "search", {}, change=Change(actor="t"))
    window = MetricWindow(flag="search", variant="off", metric="latency_ms",
                          start=clock.now() - timedelta(minutes=10), seconds=60,
                          kind=WindowKind.MEAN, n=40, sum=400.0, sum_squares=4400.0)  # fmt: skip
    transact(store, service.record_metric_windows, ENV, [window])

    # When the store-backed kinds look
    metric = {
        "kind": "metric_baseline",
        "environment": ENV,
        "flag": "search",
        "metric": "latency_ms",
    }
    results = _run(
        store,
        {"name": "hour", **metric},
        {"name": "five-minutes", **metric, "within": "5m"},
        {"name": "enough", **metric, "min_n": 100},
        {
            "name": "flags",
            "kind": "flags_defined",
            "environment": ENV,
            "flags": ["search"],
            "enabled": True,
        },
        {"name": "missing", "kind": "flags_defined", "environment": ENV, "flags": ["search", "x"]},
        {"name": "no-env", "kind": "flags_defined", "environment": "nowhere", "flags": ["x"]},
    )

    # Then data inside the window passes; the rest fails saying why
    assert _statuses(results) == ["pass", "fail", "fail", "pass", "fail", "fail"]
    assert results[0].evidence["n"] == 40
    assert results[4].evidence["missing"] == ["x"]


def test_plan_checks_read_the_plan_its_flag_and_its_gate_metrics(
    store: SqlStore, clock: FixedClock
) -> None:
    # Given a plan on a flag with two versions and a gate metric that has data
    transact(store, service.create_environment, ENV, change=Change(actor="t"))
    transact(store, service.create_flag, ENV, "search", {}, change=Change(actor="t"))
    transact(store, service.set_rollout_percentage, ENV, "search", 5, change=Change(actor="t"))
    plan = Plan(
        name="p", flag="search", environment=ENV, stages=(RampStage(percent=5),),
        gates=(HoldbackGate(name="errors", metric="errors"),
               ThresholdGate(name="latency", metric="latency_ms", max=500.0)),
    )  # fmt: skip
    transact(store, service.create_plan, plan, change=Change(actor="t"))
    window = MetricWindow(flag="search", variant="on", metric="errors", start=clock.now(),
                          seconds=60, kind=WindowKind.PROPORTION, n=10, successes=1)  # fmt: skip
    transact(store, service.record_metric_windows, ENV, [window])

    # When the plan checks run
    results = _run(
        store,
        {
            "name": "rollback",
            "kind": "plan_rollback",
            "environment": ENV,
            "plan": "p",
            "tables": ["flags"],
        },
        {
            "name": "old-table",
            "kind": "plan_rollback",
            "environment": ENV,
            "plan": "p",
            "tables": ["documents_v1"],
        },
        {"name": "gates", "kind": "plan_gate_data", "environment": ENV, "plan": "p"},
        {"name": "no-plan", "kind": "plan_rollback", "environment": ENV, "plan": "nope"},
    )

    # Then the rollback path is there, a dropped old table is not, latency has no data
    assert _statuses(results) == ["pass", "fail", "fail", "fail"]
    assert results[0].evidence["restorable_version"] == 1
    assert results[1].evidence["missing_tables"] == ["documents_v1"]
    assert results[2].evidence["metrics"] == {"errors": 10, "latency_ms": 0}
    assert results[2].evidence["empty"] == ["latency_ms"]
    assert "does not exist" in results[3].message
