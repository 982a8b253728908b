"""Seed 000's ``BackfillManager``: a dry run writes nothing; an execution copies and verifies."""

from __future__ import annotations

import asyncio
from pathlib import Path

from backfill_data import create_source, create_target, job_text, query

from rheostat.facade import BackfillManager
from rheostat.service import migrate_database


def _setup(tmp_path: Path) -> tuple[Path, str, str]:
    data = f"sqlite:///{tmp_path / 'data.db'}"
    create_source(data, 250)
    create_target(data)
    store = f"sqlite:///{tmp_path / 'rheostat.db'}"
    migrate_database(store)
    job = tmp_path / "job.yaml"
    job.write_text(job_text("${DATA}", "${DATA}", size=100), encoding="utf-8")
    return job, data, store


def test_a_dry_run_counts_and_estimates_without_writing(tmp_path: Path) -> None:
    job, data, store = _setup(tmp_path)
    manager = BackfillManager([job], database_url=store, environ={"DATA": data})

    summary = asyncio.run(manager.run_full_backfill(dry_run=True))

    assert summary["dry_run"] is True
    assert summary["success_count"] == 1
    assert summary["failure_count"] == 0
    details = summary["tasks"]["docs"]["details"]
    assert details["rows_total"] == 250
    assert details["estimated_time_minutes"] is not None
    assert query(data, "SELECT count(*) FROM documents_search") == [(0,)]


def test_an_execution_copies_verifies_and_a_broken_job_fails_alone(tmp_path: Path) -> None:
    job, data, store = _setup(tmp_path)
    broken = tmp_path / "broken.yaml"
    broken.write_text("backfill: [", encoding="utf-8")
    manager = BackfillManager([job, broken], database_url=store, environ={"DATA": data})

    summary = asyncio.run(manager.run_full_backfill(dry_run=False))

    assert summary["success_count"] == 1
    assert summary["failure_count"] == 1
    docs = summary["tasks"]["docs"]
    assert docs["status"] == "success"
    assert docs["details"]["rows_done"] == 250
    assert docs["details"]["verify"]["identical"] is True
    assert "broken.yaml" in summary["tasks"]["job-2"]["error"]
    assert query(data, "SELECT count(*) FROM documents_search") == [(250,)]
