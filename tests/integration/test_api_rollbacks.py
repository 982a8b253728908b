"""Rollbacks, webhooks and alerts over HTTP (issue 10), on SQLite and PostgreSQL: a rollback
through the API is delivered, signed, to a real receiver by the request's background task."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient

from rheostat import service
from rheostat.api import create_app
from rheostat.clock import FixedClock
from rheostat.service import Change, SqlStore, transact
from rheostat.settings import Settings
from rheostat.webhook_signatures import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature

ENV = {"environment": "production"}
FLAG = "hybrid_search"


@pytest.fixture
def keys(store: SqlStore, production_keys: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    transact(store, service.create_flag, "production", FLAG, {}, change=Change(actor="s"))
    transact(
        store, service.set_rollout_percentage, "production", FLAG, 40, change=Change(actor="s")
    )
    return production_keys


@pytest.fixture
def client(store_url: str, store: SqlStore, clock: FixedClock) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=store_url), clock=clock)) as test_client:
        yield test_client


@pytest.fixture
def inbox() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    received: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            received.append((dict(self.headers.items()), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/in", received
    server.shutdown()
    server.server_close()
    thread.join()


def test_a_rollback_over_http_is_recorded_and_delivered_signed(
    client: TestClient,
    keys: dict[str, dict[str, str]],
    inbox: tuple[str, list[tuple[dict[str, str], bytes]]],
    clock: FixedClock,
) -> None:
    admin = keys["admin"]
    url, received = inbox

    # Given a webhook
    created = client.post(
        "/api/v1/webhooks", json={"url": url, "events": ["rollback.*"]}, headers=admin
    )
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]
    hook = created.json()["id"]
    listed = client.get("/api/v1/webhooks", headers=admin).json()["items"]
    assert [w["id"] for w in listed] == [hook]
    assert "secret" not in listed[0]

    # When the flag is rolled back at once
    rolled = client.post(
        f"/api/v1/flags/{FLAG}/rollback",
        params=ENV,
        json={"mode": "immediate", "reason": "5xx up"},
        headers=admin,
    )

    # Then it is off, recorded with from/to, and delivered signed after the response
    assert rolled.status_code == 201, rolled.text
    body = rolled.json()
    assert body["mode"] == "immediate"
    assert body["status"] == "completed"
    assert body["from"]["percent"] == 40.0
    assert body["to"] == {"enabled": False, "version": 3}
    assert body["actor"] == "api-key:ops"
    flag = client.get(f"/api/v1/flags/{FLAG}", params=ENV, headers=admin).json()
    assert flag["definition"]["enabled"] is False
    assert [json.loads(b)["type"] for _, b in received] == [
        "rollback.started",
        "rollback.completed",
    ]
    headers, raw = received[0]
    assert verify_signature(
        secret,
        raw,
        signature=headers[SIGNATURE_HEADER],
        timestamp=headers[TIMESTAMP_HEADER],
        now=clock.now().timestamp(),
    )
    log = client.get(f"/api/v1/webhooks/{hook}/deliveries", headers=admin).json()["items"]
    assert {d["status"] for d in log} == {"delivered"}
    assert log[0]["log"][0]["status_code"] == 204
    history = client.get(f"/api/v1/flags/{FLAG}/rollbacks", params=ENV, headers=admin).json()
    assert [(r["mode"], r["reason"]) for r in history["items"]] == [("immediate", "5xx up")]


def test_a_gradual_and_a_targeted_rollback_over_http(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    admin = keys["admin"]
    gradual = client.post(
        f"/api/v1/flags/{FLAG}/rollback",
        params=ENV,
        json={"mode": "gradual", "steps": [50, 0], "bake_seconds": 60},
        headers=admin,
    ).json()
    assert gradual["status"] == "running"
    assert gradual["to"]["percent"] == 20.0
    assert gradual["steps_left"] == [0.0]
    targeted = client.post(
        f"/api/v1/flags/{FLAG}/rollback",
        params=ENV,
        json={"mode": "targeted", "users": ["u1"], "orgs": ["org-17"]},
        headers=admin,
    )
    assert targeted.status_code == 201, targeted.text
    history = client.get(f"/api/v1/flags/{FLAG}/rollbacks", params=ENV, headers=admin).json()
    assert [(r["mode"], r["status"]) for r in history["items"]] == [
        ("targeted", "completed"),
        ("gradual", "cancelled"),
    ]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"mode": "targeted"}, 422, "validation_error"),
        ({"mode": "sideways"}, 422, "validation_error"),
        ({"mode": "version"}, 422, "validation_error"),
        ({"mode": "version", "version": 99}, 404, "not_found"),
        ({"mode": "gradual", "steps": [150, 0]}, 422, "validation_error"),
        ({"mode": "targeted", "users": ["u1"], "expected_version": 1}, 409, "conflict"),
    ],
)
def test_bad_rollbacks_get_the_error_shape(
    client: TestClient, keys: dict[str, dict[str, str]], body: dict[str, object], status: int,
    code: str,
) -> None:  # fmt: skip
    answer = client.post(
        f"/api/v1/flags/{FLAG}/rollback", params=ENV, json=body, headers=keys["admin"]
    )
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] == code


def test_an_sdk_key_may_not_roll_back(client: TestClient, keys: dict[str, dict[str, str]]) -> None:
    answer = client.post(
        f"/api/v1/flags/{FLAG}/rollback",
        params=ENV,
        json={"mode": "immediate"},
        headers=keys["sdk"],
    )
    assert answer.status_code == 403
    assert client.get("/api/v1/webhooks", headers=keys["sdk"]).status_code == 403
    assert client.get("/api/v1/alerts", headers=keys["sdk"]).status_code == 403


def test_webhooks_are_validated_and_removed_once(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    admin = keys["admin"]
    bad = client.post("/api/v1/webhooks", json={"url": "ftp://x"}, headers=admin)
    assert bad.status_code == 422
    assert bad.json()["error"]["details"]["field"] == "url"
    bad_event = client.post(
        "/api/v1/webhooks", json={"url": "https://x.test/", "events": ["Rollback!"]}, headers=admin
    )
    assert bad_event.status_code == 422
    hook = client.post("/api/v1/webhooks", json={"url": "https://x.test/"}, headers=admin)
    hook_id = hook.json()["id"]
    assert client.delete(f"/api/v1/webhooks/{hook_id}", headers=admin).status_code == 204
    assert client.delete(f"/api/v1/webhooks/{hook_id}", headers=admin).status_code == 404
    missing = client.get("/api/v1/webhooks/wh_nope/deliveries", headers=admin)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


def test_alert_rules_alerts_and_health_over_http(
    client: TestClient, keys: dict[str, dict[str, str]], clock: FixedClock, store: SqlStore
) -> None:
    admin = keys["admin"]
    rules = {
        "rules": [
            {
                "name": "errors",
                "flag": FLAG,
                "metric": "http_errors",
                "warning": {"above": 0.005},
                "critical": {"above": 0.01},
            }
        ]
    }
    bad = client.put(
        "/api/v1/alerts/rules",
        params=ENV,
        json={"document": {"rules": [{"name": "x"}]}},
        headers=admin,
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["details"]["path"].startswith("rules[0]")
    put = client.put("/api/v1/alerts/rules", params=ENV, json={"document": rules}, headers=admin)
    assert put.status_code == 200, put.text
    assert put.json()["version"] == 1
    assert client.get("/api/v1/alerts/rules", params=ENV, headers=admin).json()["version"] == 1

    # When errors at 2 % arrive and the controller evaluates the rules
    start = clock.now().replace(second=0, microsecond=0).isoformat()
    sent = client.post(
        "/api/v1/client/metrics",
        json={
            "environment": "production",
            "windows": [
                {"flag": FLAG, "variant": "on", "metric": "http_errors", "start": start,
                 "seconds": 60, "kind": "proportion", "n": 1000, "successes": 20},
            ],
        },
        headers=admin,
    )  # fmt: skip
    assert sent.status_code in (200, 202), sent.text
    clock.advance(timedelta(minutes=1))
    transact(store, service.evaluate_alerts)

    # Then the alert is listed, and /health shows it
    firing = client.get("/api/v1/alerts", params={"status": "firing"}, headers=admin).json()
    assert [(a["kind"], a["severity"]) for a in firing["items"]] == [("rule:errors", "critical")]
    health = client.get("/health").json()
    assert [a["kind"] for a in health["firing_alerts"]] == ["rule:errors"]
    assert health["running_plans"] == []
    resolved = client.post(f"/api/v1/alerts/{firing['items'][0]['id']}/resolve", headers=admin)
    assert resolved.json()["status"] == "resolved"
    assert client.get("/health").json()["firing_alerts"] == []
