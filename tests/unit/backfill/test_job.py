"""The job document: read whole, every mistake named by its path, fingerprinted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rheostat.backfill import (
    job_fingerprint,
    job_from_dict,
    job_from_text,
    job_to_dict,
    load_job,
)
from rheostat.errors import InvalidDefinition

ISSUE_JOB = """
backfill: documents-to-search
source: {url: "postgresql://app@db/app", table: documents, key: id}
target: {url: "${TARGET_URL}", table: documents_search, key: id}
columns: {id: id, title: title, body_length: "length(body)"}
transform: mypackage.search:enrich
batch: {size: 1000, target_seconds: 0.5}
throttle: {max_rows_per_second: 0, replication_lag_seconds: 10}
"""
ENV = {"TARGET_URL": "postgresql://app@search/search"}


def _document(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "backfill": "copy",
        "source": {"url": "sqlite:///a.db", "table": "a", "key": ["org", "id"]},
        "target": {"url": "sqlite:///a.db", "table": "b", "key": ["org", "id"]},
        "columns": {"org": "org", "id": "id", "name": "upper(name)"},
    }
    document.update(changes)
    return document


def test_the_issue_example_is_read_with_the_environment_put_in() -> None:
    job = job_from_text(ISSUE_JOB, ENV)

    assert job.name == "documents-to-search"
    assert job.source.table == "documents"
    assert job.source.key == ("id",)
    assert job.target.url == "postgresql://app@search/search"
    assert job.target.url_template == "${TARGET_URL}"
    assert job.columns == (("id", "id"), ("title", "title"), ("body_length", "length(body)"))
    assert job.transform == "mypackage.search:enrich"
    assert job.batch.size == 1000
    assert job.batch.target_seconds == 0.5
    assert job.throttle.replication_lag_seconds == 10


def test_the_canonical_document_reads_back_unchanged_and_keeps_the_variables() -> None:
    job = job_from_text(ISSUE_JOB, ENV)

    document = job_to_dict(job)

    assert document["target"]["url"] == "${TARGET_URL}"
    assert job_from_dict(document, ENV) == job


def test_a_composite_key_and_a_query_source() -> None:
    job = job_from_dict(
        _document(
            source={"url": "sqlite:///a.db", "query": "SELECT * FROM a;", "key": ["org", "id"]}
        ),
        {},
    )

    assert job.source.query == "SELECT * FROM a"
    assert job.source.key == ("org", "id")
    assert job.target.key == ("org", "id")


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"backfill": None}, "backfill"),
        ({"backfill": "no spaces"}, "backfill"),
        ({"colour": 1}, "colour"),
        ({"source": {"url": "sqlite:///a.db", "key": "id"}}, "source.table"),
        (
            {"source": {"url": "sqlite:///a.db", "table": "a", "query": "SELECT 1", "key": "id"}},
            "source.query",
        ),
        (
            {"source": {"url": "sqlite:///a.db", "query": "DELETE FROM a", "key": "id"}},
            "source.query",
        ),
        ({"source": {"url": "${MISSING}", "table": "a", "key": ["org", "id"]}}, "source.url"),
        ({"source": {"url": "a.db", "table": "a", "key": ["org", "id"]}}, "source.url"),
        ({"source": {"url": "sqlite:///a.db", "table": "a; drop", "key": "id"}}, "source.table"),
        ({"source": {"url": "sqlite:///a.db", "table": "a", "key": ["org", 3]}}, "source.key[1]"),
        (
            {"source": {"url": "sqlite:///a.db", "table": "a", "key": ["org", "org"]}},
            "source.key[1]",
        ),
        ({"target": {"url": "sqlite:///a.db", "query": "SELECT 1", "key": "id"}}, "target.query"),
        ({"target": {"url": "sqlite:///a.db", "table": "b", "key": "id"}}, "target.key"),
        ({"columns": {"org": "org", "name": "name"}}, "columns"),
        ({"columns": {"org": "org", "id": "other_id"}}, "columns.id"),
        ({"columns": {"org": "org", "id": "id", "x": ""}}, "columns.x"),
        ({"transform": "not-an-import-path"}, "transform"),
        ({"batch": {"size": 0}}, "batch.size"),
        ({"batch": {"size": True}}, "batch.size"),
        ({"batch": {"size": 100, "min_size": 500}}, "batch.min_size"),
        ({"batch": {"target_seconds": "fast"}}, "batch.target_seconds"),
        ({"throttle": {"max_rows_per_second": -1}}, "throttle.max_rows_per_second"),
        ({"throttle": {"probes": [{"sql": "SELECT 1"}]}}, "throttle.probes[0].max"),
        (
            {"throttle": {"probes": [{"sql": "SELECT 1", "http": "http://x", "max": 1}]}},
            "throttle.probes[0]",
        ),
        ({"throttle": {"probes": [{"http": "ftp://x", "max": 1}]}}, "throttle.probes[0].http"),
        ({"throttle": {"probes": [{"callable": "x", "max": 1}]}}, "throttle.probes[0].callable"),
        (
            {"throttle": {"probes": [{"sql": "SELECT 1", "max": 1, "on": "moon"}]}},
            "throttle.probes[0].on",
        ),
    ],
)
def test_each_mistake_is_refused_naming_its_path(change: dict[str, Any], path: str) -> None:
    with pytest.raises(InvalidDefinition) as caught:
        job_from_dict(_document(**change), {})

    assert caught.value.path == path
    assert caught.value.message.startswith(f"{path}: ")


def test_a_document_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(InvalidDefinition, match="must be a mapping"):
        job_from_dict(["backfill"], {})


def test_a_file_that_cannot_be_read_or_parsed_is_named(tmp_path: Path) -> None:
    broken = tmp_path / "job.yaml"
    broken.write_text("backfill: [unclosed", encoding="utf-8")

    with pytest.raises(InvalidDefinition) as parse_error:
        load_job(broken, {})
    with pytest.raises(InvalidDefinition) as read_error:
        load_job(tmp_path / "missing.yaml", {})

    assert parse_error.value.path == str(broken)
    assert read_error.value.path == str(tmp_path / "missing.yaml")


def test_the_fingerprint_changes_with_what_decides_the_rows_and_nothing_else() -> None:
    job = job_from_dict(_document(), {})
    moved = job_from_dict(
        _document(source={"url": "postgresql://elsewhere/db", "table": "a", "key": ["org", "id"]}),
        {},
    )
    faster = job_from_dict(_document(batch={"size": 5000}), {})
    other_columns = job_from_dict(
        _document(columns={"org": "org", "id": "id", "name": "lower(name)"}), {}
    )
    other_table = job_from_dict(
        _document(source={"url": "sqlite:///a.db", "table": "a2", "key": ["org", "id"]}), {}
    )

    assert job_fingerprint(moved) == job_fingerprint(job)
    assert job_fingerprint(faster) == job_fingerprint(job)
    assert job_fingerprint(other_columns) != job_fingerprint(job)
    assert job_fingerprint(other_table) != job_fingerprint(job)


def test_parallel_workers_are_read_checked_and_kept_out_of_the_fingerprint() -> None:
    from rheostat.backfill import job_fingerprint, job_from_dict, job_to_dict
    from rheostat.errors import InvalidDefinition

    document = {
        "backfill": "docs",
        "source": {"url": "postgresql://h/db", "table": "documents", "key": "id"},
        "target": {"url": "postgresql://h/db", "table": "documents_search", "key": "id"},
        "columns": {"id": "id"},
    }
    single = job_from_dict(document, {})
    parallel = job_from_dict({**document, "parallel": {"workers": 4}}, {})
    assert (single.workers, parallel.workers) == (1, 4)
    assert job_fingerprint(single) == job_fingerprint(parallel)
    assert job_from_dict(job_to_dict(parallel), {}) == parallel
    assert "parallel" not in job_to_dict(single)
    with pytest.raises(InvalidDefinition, match=r"parallel\.workers: must be between 1 and 64"):
        job_from_dict({**document, "parallel": {"workers": 0}}, {})
    with pytest.raises(InvalidDefinition, match="threads"):
        job_from_dict({**document, "parallel": {"threads": 2}}, {})
