"""``/api/v1/plans``: create, status and commands over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rheostat import service
from rheostat.api import create_app
from rheostat.service import Change, SqlStore, transact
from rheostat.settings import Settings

ENV = {"environment": "production"}
DOCUMENT: dict[str, Any] = {
    "plan": "search",
    "flag": "hybrid_search",
    "environment": "production",
    "stages": [
        {"ramp": {"percent": 5, "bake": "30m", "holdback": True}},
        {"ramp": {"percent": 100}},
    ],
    "gates": [{"metric": "http_errors", "compare": "holdback", "worse": "higher"}],
}


@pytest.fixture
def keys(store: SqlStore, production_keys: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    transact(
        store, service.create_flag, "production", "hybrid_search", {}, change=Change(actor="s")
    )
    return production_keys


@pytest.fixture
def client(store_url: str, store: SqlStore) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=store_url))) as test_client:
        yield test_client


def test_a_plan_is_created_started_steered_and_shown(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    admin = keys["admin"]

    # When it is created (and started), paused, resumed and rolled back
    created = client.post(
        "/api/v1/plans", json={"document": DOCUMENT, "reason": "Q4"}, headers=admin
    )
    paused = client.post("/api/v1/plans/search/pause", params=ENV, headers=admin)
    resumed = client.post(
        "/api/v1/plans/search/resume", params=ENV, json={"reason": "ok"}, headers=admin
    )
    rolled = client.post("/api/v1/plans/search/rollback", params=ENV, headers=admin)
    shown = client.get("/api/v1/plans/search", params=ENV, headers=admin)
    listed = client.get("/api/v1/plans", params=ENV, headers=admin)

    # Then each answered with the plan's status, and the events tell the story
    assert created.status_code == 201, created.text
    assert created.json()["state"] == "running"
    assert paused.json()["state"] == "paused"
    assert resumed.json()["state"] == "running"
    assert rolled.json()["state"] == "rolled_back"
    body = shown.json()
    assert (body["state"], body["percent"], body["stage"]) == ("rolled_back", 0.0, 1)
    types = [event["type"] for event in body["events"]]
    assert types[:3] == ["plan.started", "plan.paused", "plan.resumed"]
    assert "plan.rolled_back" in types
    assert [item["plan"] for item in listed.json()["items"]] == ["search"]


def test_mistakes_are_named_and_sdk_keys_are_refused(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    admin = keys["admin"]
    bad = {**DOCUMENT, "stages": [{"ramp": {"percent": "5"}}]}
    invalid = client.post("/api/v1/plans", json={"document": bad}, headers=admin)
    unknown_verb = client.post("/api/v1/plans/search/explode", params=ENV, headers=admin)
    missing = client.get("/api/v1/plans/nope", params=ENV, headers=admin)
    by_sdk = client.get("/api/v1/plans", params=ENV, headers=keys["sdk"])
    twice = [client.post("/api/v1/plans", json={"document": DOCUMENT}, headers=admin) for _ in "ab"]

    assert invalid.status_code == 422
    assert "stages[0].ramp.percent" in invalid.text
    assert unknown_verb.status_code == 422
    assert missing.status_code == 404
    assert by_sdk.status_code == 403
    assert [answer.status_code for answer in twice] == [201, 409]
