"""``/api/v1/backfills``: a job's status and progress over HTTP, admin scope only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from backfill_data import create_source, create_target, job_text
from fastapi.testclient import TestClient

from rheostat.api import create_app
from rheostat.backfill import job_from_text
from rheostat.runner import BackfillRunner
from rheostat.service import SqlStore
from rheostat.settings import Settings


@pytest.fixture
def client(store_url: str, store: SqlStore) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=store_url))) as test_client:
        yield test_client


def test_a_finished_backfill_shows_its_progress_and_checkpoints(
    client: TestClient, production_keys: dict[str, dict[str, str]], store: SqlStore, store_url: str
) -> None:
    create_source(store_url, 300)
    create_target(store_url)
    job = job_from_text(job_text(store_url, store_url, size=100), {})
    with BackfillRunner(job, store=store) as runner:
        runner.mirror_seconds = 0
        runner.run()
        runner.verify()

    listed = client.get("/api/v1/backfills", headers=production_keys["admin"])
    shown = client.get("/api/v1/backfills/docs", headers=production_keys["admin"])

    assert listed.status_code == 200
    assert [item["name"] for item in listed.json()["items"]] == ["docs"]
    assert shown.status_code == 200
    body = shown.json()
    assert body["status"] == "completed"
    assert body["rows_done"] == 300
    assert body["percent"] == 100.0
    assert body["verified"] is True
    assert [c["rows_done"] for c in body["checkpoints"]] == [300, 300, 200, 100]


def test_unknown_jobs_are_404_and_sdk_keys_are_refused(
    client: TestClient, production_keys: dict[str, dict[str, str]]
) -> None:
    missing = client.get("/api/v1/backfills/nope", headers=production_keys["admin"])
    refused = client.get("/api/v1/backfills", headers=production_keys["sdk"])

    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    assert refused.status_code == 403
