"""``GET /metrics``: the Prometheus text format, counts that move, and the stored state it reads.

The app runs in process on a real SQLite file and on PostgreSQL; the exposition is parsed with
``prometheus_client``'s own parser, as Prometheus would read it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from rheostat import service
from rheostat.api import create_app
from rheostat.clock import FixedClock
from rheostat.service import Change, SqlStore, transact
from rheostat.settings import Settings
from rheostat.store.operations_records import AlertSeverity

ENV = {"environment": "production"}
PLAN = {
    "plan": "search",
    "flag": "hybrid_search",
    "environment": "production",
    "stages": [
        {"ramp": {"percent": 5, "bake": "30m", "holdback": True}},
        {"ramp": {"percent": 100}},
    ],
    "gates": [{"metric": "http_errors", "compare": "holdback", "worse": "higher"}],
}

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(client: TestClient, **headers: str) -> Samples:
    """Every sample of ``/metrics``, parsed by Prometheus's parser: (name, labels) -> value."""
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def keys(store: SqlStore, production_keys: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    transact(store, service.create_environment, "staging", change=Change(actor="setup"))
    transact(
        store, service.create_flag, "production", "hybrid_search", {}, change=Change(actor="s")
    )
    return production_keys


@pytest.fixture
def client(store_url: str, store: SqlStore, clock: FixedClock) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=store_url), clock=clock)) as test_client:
        yield test_client


def test_requests_are_counted_by_route_template_method_and_status_class(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    # Given a scrape before any request
    before = scrape(client)

    # When a flag is read twice, an unknown flag once, and an unknown path once
    for _ in range(2):
        client.get("/api/v1/flags/hybrid_search", params=ENV, headers=keys["admin"])
    client.get("/api/v1/flags/no-such-flag", params=ENV, headers=keys["admin"])
    client.get("/no/such/path/7f3a")
    after = scrape(client)

    # Then the counts moved under the route's template, never the raw path
    template = "/api/v1/flags/{key}"
    ok = {"route": template, "method": "GET", "status": "2xx"}
    missing = {"route": template, "method": "GET", "status": "4xx"}
    assert value(after, "rheostat_http_requests_total", **ok) == 2 + value(
        before, "rheostat_http_requests_total", **ok
    )
    assert value(after, "rheostat_http_requests_total", **missing) == 1
    assert (
        value(after, "rheostat_http_requests_total", route="unmatched", method="GET", status="4xx")
        == 1
    )
    timed = value(
        after, "rheostat_http_request_duration_seconds_count", route=template, method="GET"
    )
    assert timed == 3
    routes = {dict(labels).get("route") for _, labels in after}
    assert not any("hybrid_search" in route or "7f3a" in route for route in routes if route)


def test_flag_documents_served_are_counted_full_and_unchanged(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    # When an SDK downloads its document, then asks again with the ETag
    first = client.get("/api/v1/client/flags", headers=keys["sdk"])
    client.get(
        "/api/v1/client/flags", headers={**keys["sdk"], "If-None-Match": first.headers["ETag"]}
    )
    samples = scrape(client)

    # Then one full document and one 304 are counted for its environment
    name = "rheostat_flag_documents_served_total"
    assert value(samples, name, environment="production", status="200") == 1
    assert value(samples, name, environment="production", status="304") == 1


def test_evaluations_served_on_the_server_are_counted_per_endpoint(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    # When an OFREP client evaluates one flag, then all of them, and another app asks for two
    body = {"context": {"targetingKey": "user-1"}}
    client.post("/ofrep/v1/evaluate/flags/hybrid_search", json=body, headers=keys["sdk"])
    client.post("/ofrep/v1/evaluate/flags", json=body, headers=keys["sdk"])
    evaluate = {"context": {"key": "user-1"}, "flags": ["hybrid_search", "missing"]}
    answer = client.post("/api/v1/client/evaluate", json=evaluate, headers=keys["sdk"])
    assert answer.status_code == 200, answer.text
    samples = scrape(client)

    # Then each endpoint counts the flags it evaluated
    name = "rheostat_evaluations_served_total"
    counted = {
        endpoint: value(samples, name, environment="production", endpoint=endpoint)
        for endpoint in (
            "/ofrep/v1/evaluate/flags/{key}",
            "/ofrep/v1/evaluate/flags",
            "/api/v1/client/evaluate",
        )
    }
    assert counted == {
        "/ofrep/v1/evaluate/flags/{key}": 1,
        "/ofrep/v1/evaluate/flags": 1,
        "/api/v1/client/evaluate": 2,
    }


def test_plan_states_alerts_and_revision_lag_come_from_the_database(
    client: TestClient, keys: dict[str, dict[str, str]], store: SqlStore, clock: FixedClock
) -> None:
    # Given an empty state, every plan state is reported at zero
    empty = scrape(client)
    assert value(empty, "rheostat_release_plans", state="running") == 0
    assert value(empty, "rheostat_database_up") == 1

    # When a plan starts, an alert fires, and an SDK process reports the current revision
    started = client.post("/api/v1/plans", json={"document": PLAN}, headers=keys["admin"])
    assert started.status_code == 201, started.text
    transact(
        store, service.raise_alert, "production", kind="test", severity=AlertSeverity.CRITICAL,
        subject="checkout", message="errors above 5%",
    )  # fmt: skip
    revision = int(client.get("/api/v1/client/flags", headers=keys["sdk"]).headers[
        "X-Rheostat-Revision"
    ])  # fmt: skip
    beat = {"instance_id": "web-1", "revision": revision}
    assert client.post("/api/v1/client/heartbeat", json=beat, headers=keys["sdk"]).is_success
    current = scrape(client)

    # Then the plan is counted as running, the alert as firing, and the process as current
    assert value(current, "rheostat_release_plans", state="running") == 1
    assert value(current, "rheostat_alerts_firing", severity="critical") == 1
    assert value(current, "rheostat_sdk_processes_live", environment="production") == 1
    assert value(current, "rheostat_sdk_revision_lag", environment="production") == 0

    # When the flag is killed twice and the process has not reported since
    for _ in range(2):
        killed = client.post("/api/v1/flags/hybrid_search/kill", params=ENV, headers=keys["admin"])
        assert killed.is_success, killed.text
    lagging = scrape(client)

    # Then it is behind by the revisions the kills made
    now = int(value(lagging, "rheostat_environment_revision", environment="production"))
    assert now > revision
    assert value(lagging, "rheostat_sdk_processes_behind", environment="production") == 1
    assert value(lagging, "rheostat_sdk_revision_lag", environment="production") == now - revision

    # When the process stops reporting for longer than the liveness window
    clock.advance(timedelta(minutes=5))
    silent = scrape(client)

    # Then it is no longer live, and no longer counted in the lag
    assert value(silent, "rheostat_sdk_processes_live", environment="production") == 0
    assert value(silent, "rheostat_sdk_revision_lag", environment="production") == 0


def test_each_app_keeps_its_own_counts(sqlite_url: str) -> None:
    # Given two apps in one process on the same database
    service.migrate_database(sqlite_url)
    settings = Settings(database_url=sqlite_url)
    with TestClient(create_app(settings)) as first, TestClient(create_app(settings)) as second:
        # When only the first answers /health
        first.get("/health")

        # Then only the first counted it
        route = {"route": "/health", "method": "GET", "status": "2xx"}
        assert value(scrape(first), "rheostat_http_requests_total", **route) == 1
        assert value(scrape(second), "rheostat_http_requests_total", **route) == 0


def test_a_metrics_token_closes_the_endpoint_to_everyone_else(
    store_url: str, keys: dict[str, dict[str, str]]
) -> None:
    # Given a server with RHEOSTAT_METRICS_TOKEN set
    token = SecretStr("scrape-me-7c1d")
    settings = Settings(database_url=store_url, metrics_token=token)
    with TestClient(create_app(settings)) as client:
        # When it is scraped without a token, with an admin key, and with the token
        anonymous = client.get("/metrics")
        admin = client.get("/metrics", headers=keys["admin"])
        scraper = client.get("/metrics", headers={"Authorization": "Bearer scrape-me-7c1d"})

    # Then only the token opens it, and refusals are the usual error
    assert anonymous.status_code == admin.status_code == 401
    assert anonymous.json()["error"]["code"] == "unauthenticated"
    assert anonymous.headers["WWW-Authenticate"] == "Bearer"
    assert scraper.status_code == 200
    assert "rheostat_http_requests_total" in scraper.text


def test_metrics_still_answer_when_the_database_is_down() -> None:
    # Given a server whose database cannot be opened
    settings = Settings(database_url="postgresql://nobody@127.0.0.1:1/none")
    with TestClient(create_app(settings)) as client:
        # When it is scraped
        samples = scrape(client)

    # Then the in-memory counters are there and the database is reported down
    assert value(samples, "rheostat_database_up") == 0
    assert value(samples, "rheostat_stream_clients") == 0
