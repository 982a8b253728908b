"""Seed 000's ``PreRolloutChecker`` on a real SQLite file and Redis."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from rheostat import service
from rheostat.errors import InvalidDefinition
from rheostat.facade import CheckResult, PreRolloutChecker

SUITE = f"""\
suite: pre-rollout
checks:
  - {{name: database_schema, kind: schema, tables: [flags, plan_events], alembic: head}}
  - {{name: redis, kind: redis, port: '${{REDIS_PORT}}'}}
  - name: monitoring_setup
    kind: command
    run: [{sys.executable!r}, -c, 'raise SystemExit(1)']
    severity: warn
  - {{name: backup_status, kind: backup_recent, path: /nonexistent-backups, max_age_hours: 26}}
"""


def test_run_all_checks_answers_in_the_seeds_words(sqlite_url: str, tmp_path: Path) -> None:
    # Given a suite file in the seed's spirit, and a checker on a fresh database
    path = tmp_path / "pre-rollout.yaml"
    path.write_text(SUITE, encoding="utf-8")
    checker = PreRolloutChecker(
        None, None, None, suite=path, database_url=sqlite_url, environ={"REDIS_PORT": "6379"}
    )

    # When the seed's call is awaited
    try:
        results = asyncio.run(checker.run_all_checks())
    finally:
        checker.close()

    # Then each check answered with pass, warning or fail, and the run was stored
    assert [(r.name, r.status) for r in results] == [
        ("database_schema", "pass"),
        ("redis", "pass"),
        ("monitoring_setup", "warning"),
        ("backup_status", "fail"),
    ]
    assert isinstance(results[0], CheckResult)
    assert results[0].details is not None
    assert results[0].details["kind"] == "schema"
    assert checker.last_run is not None
    store = service.open_store(sqlite_url)
    try:
        stored = service.transact(store, service.get_check_run, checker.last_run.id)
    finally:
        store.close()
    assert stored.source == "python"
    assert len(stored.results) == 4


def test_a_suite_document_works_too_and_a_bad_one_names_the_path(sqlite_url: str) -> None:
    checker = PreRolloutChecker(
        suite={"checks": [{"kind": "database_reachable"}]}, database_url=sqlite_url
    )
    try:
        [result] = asyncio.run(checker.run_all_checks())
        assert result.status == "pass"
        bad = PreRolloutChecker(suite={"checks": [{"kind": "tcp"}]}, store=checker._store)
        with pytest.raises(InvalidDefinition, match=r"checks\[0\]\.host"):
            asyncio.run(bad.run_all_checks())
    finally:
        checker.close()
