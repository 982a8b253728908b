"""Environments, segments, keys, audit, import/export and the error shape, over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from rheostat import service
from rheostat.api import create_app
from rheostat.service import SqlStore
from rheostat.settings import Settings

ENV = {"environment": "production"}
PILOT = {"conditions": [{"attribute": "org_id", "op": "in", "values": ["org-17"]}]}


@pytest.fixture
def client(store_url: str, store: SqlStore) -> Iterator[TestClient]:
    """The app on the test's database, lifespan running."""
    with TestClient(create_app(Settings(database_url=store_url))) as test_client:
        yield test_client


@pytest.fixture
def admin(store: SqlStore) -> dict[str, str]:
    """Headers of an admin key, with a ``production`` environment to work in."""
    service.transact(
        store, service.create_environment, "production", change=service.Change(actor="bootstrap")
    )
    created = service.transact(
        store,
        service.create_api_key,
        name="ops",
        scope="admin",
        change=service.Change(actor="bootstrap"),
    )
    return {"Authorization": f"Bearer {created.token}"}


def test_environments_are_created_renamed_and_deleted(
    client: TestClient, admin: dict[str, str]
) -> None:
    # Given a new staging environment
    created = client.post(
        "/api/v1/environments", json={"key": "staging", "description": "pre-prod"}, headers=admin
    )

    # When it is renamed with its version, renamed again with a stale one, then deleted
    renamed = client.patch(
        "/api/v1/environments/staging",
        json={"name": "Staging", "expected_version": 1},
        headers=admin,
    )
    stale = client.patch(
        "/api/v1/environments/staging", json={"name": "x", "expected_version": 1}, headers=admin
    )
    deleted = client.delete("/api/v1/environments/staging", headers=admin)
    gone = client.get("/api/v1/environments/staging", headers=admin)

    # Then each step answered as expected
    assert created.status_code == 201
    assert created.json()["name"] == "staging"
    assert renamed.json()["name"] == "Staging"
    assert renamed.json()["version"] == 2
    assert stale.status_code == 409
    assert deleted.status_code == 204
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "not_found"


def test_creating_an_existing_environment_is_409_already_exists(
    client: TestClient, admin: dict[str, str]
) -> None:
    # Given production exists / When it is created again
    response = client.post("/api/v1/environments", json={"key": "production"}, headers=admin)

    # Then it is refused
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_exists"


def test_segments_are_managed_and_used_by_flags(client: TestClient, admin: dict[str, str]) -> None:
    # Given a segment and a flag that serves it
    segment = client.post(
        "/api/v1/segments", params=ENV, json={"key": "pilot", "definition": PILOT}, headers=admin
    )
    rule = {"when": [{"attribute": "org_id", "op": "in_segment", "values": ["pilot"]}]}
    flag = {"key": "pilot-only", "definition": {"rules": [{**rule, "serve": "on"}]}}
    client.post("/api/v1/flags", params=ENV, json=flag, headers=admin)

    # When the segment is updated, then deleted while the flag uses it
    wider = {"conditions": [{**PILOT["conditions"][0], "values": ["org-17", "org-42"]}]}
    updated = client.put(
        "/api/v1/segments/pilot",
        params=ENV,
        json={"definition": wider},
        headers={**admin, "If-Match": '"1"'},
    )
    refused = client.delete("/api/v1/segments/pilot", params=ENV, headers=admin)
    listed = client.get("/api/v1/segments", params=ENV, headers=admin)

    # Then the update is version 2, and the deletion is refused as a conflict
    assert segment.status_code == 201
    assert updated.json()["version"] == 2
    assert refused.status_code == 409
    assert [item["key"] for item in listed.json()["items"]] == ["pilot"]


def test_api_keys_show_their_token_once_and_can_be_revoked(
    client: TestClient, admin: dict[str, str]
) -> None:
    # Given a new sdk key
    body = {"name": "checkout", "scope": "sdk", "environment": "production"}
    created = client.post("/api/v1/keys", json=body, headers=admin).json()
    key_id = created["api_key"]["id"]

    # When the keys are listed and the new one revoked
    listed = client.get("/api/v1/keys", headers=admin).json()["items"]
    read = client.get(f"/api/v1/keys/{key_id}", headers=admin).json()
    revoked = client.post(
        f"/api/v1/keys/{key_id}/revoke", json={"reason": "rotated"}, headers=admin
    )
    refused = client.get(
        "/api/v1/client/flags", headers={"Authorization": f"Bearer {created['token']}"}
    )

    # Then the token was shown at creation only, and the revoked key no longer works
    assert created["token"].startswith("rh_sdk_")
    assert all("token" not in item for item in listed)
    assert read["name"] == "checkout"
    assert read["environment"] == "production"
    assert revoked.json()["active"] is False
    assert refused.status_code == 401


def test_an_sdk_key_without_an_environment_is_a_validation_error(
    client: TestClient, admin: dict[str, str]
) -> None:
    # Given / When an sdk key is created without naming its environment
    response = client.post("/api/v1/keys", json={"name": "x", "scope": "sdk"}, headers=admin)

    # Then it is refused as invalid
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


def test_the_audit_log_records_who_did_what_and_why(
    client: TestClient, admin: dict[str, str]
) -> None:
    # Given a flag created and killed with reasons
    flag = {"key": "new-checkout", "reason": "ship dark"}
    client.post("/api/v1/flags", params=ENV, json=flag, headers=admin)
    kill = {"reason": "errors"}
    client.post("/api/v1/flags/new-checkout/kill", params=ENV, json=kill, headers=admin)

    # When the audit log of that flag is read one event per page
    params = {"subject": "flag:new-checkout", "limit": 1}
    first = client.get("/api/v1/audit", params=params, headers=admin).json()
    second = client.get(
        "/api/v1/audit", params={**params, "before_id": first["next_before_id"]}, headers=admin
    ).json()

    # Then the newest comes first, with actor and reason
    assert [(e["action"], e["actor"], e["reason"]) for e in first["items"]] == [
        ("flag.killed", "api-key:ops", "errors")
    ]
    assert second["items"][0]["action"] == "flag.created"


def test_an_environment_exports_and_imports_as_one_document(
    client: TestClient, admin: dict[str, str]
) -> None:
    # Given production with a segment and a flag, and an empty staging
    client.post(
        "/api/v1/segments", params=ENV, json={"key": "pilot", "definition": PILOT}, headers=admin
    )
    client.post("/api/v1/flags", params=ENV, json={"key": "new-checkout"}, headers=admin)
    client.post("/api/v1/environments", json={"key": "staging"}, headers=admin)

    # When production is exported, imported into staging as a dry run, then for real
    document = client.get("/api/v1/environments/production/export", headers=admin).json()
    url = "/api/v1/environments/staging/import"
    dry = client.post(url, json={"document": document, "dry_run": True}, headers=admin).json()
    dry_flags = client.get("/api/v1/flags", params={"environment": "staging"}, headers=admin)
    real = client.post(url, json={"document": document}, headers=admin).json()

    # Then the dry run wrote nothing and the import created the same flags and segments
    assert dry["dry_run"] is True
    assert dry["created"] == ["new-checkout"]
    assert dry_flags.json()["items"] == []
    assert real["created"] == ["new-checkout"]
    assert real["segments_created"] == ["pilot"]


def test_an_invalid_definition_names_the_bad_field(
    client: TestClient, admin: dict[str, str]
) -> None:
    # Given / When a flag is created with variants but no default
    flag = {"key": "copy", "definition": {"variants": {"a": "Buy", "b": "Order"}}}
    response = client.post("/api/v1/flags", params=ENV, json=flag, headers=admin)

    # Then it is 422 invalid_definition naming the path
    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "invalid_definition",
        "message": "flags.copy.default: missing: name the variant served by default",
        "details": {"path": "flags.copy.default"},
    }


@pytest.mark.parametrize(
    ("body", "path"),
    [
        pytest.param({"percent": "lots"}, "body.percent", id="not-a-number"),
        pytest.param({"percent": 100.5}, "body.percent", id="over-100"),
        pytest.param({"percent": 5, "reasn": "typo"}, "body.reasn", id="unknown-field"),
        pytest.param({}, "body.percent", id="missing"),
    ],
)
def test_request_validation_errors_are_422_with_the_field_path(
    client: TestClient, admin: dict[str, str], body: dict[str, object], path: str
) -> None:
    # Given a flag
    client.post("/api/v1/flags", params=ENV, json={"key": "new-checkout"}, headers=admin)

    # When its rollout is set with a bad body
    response = client.post(
        "/api/v1/flags/new-checkout/rollout", params=ENV, json=body, headers=admin
    )

    # Then the error names the field
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert [problem["path"] for problem in error["details"]["errors"]] == [path]


def test_malformed_json_is_a_validation_error_not_a_crash(
    client: TestClient, admin: dict[str, str]
) -> None:
    # Given / When a body that is not JSON is sent
    response = client.post(
        "/api/v1/flags",
        params=ENV,
        content=b"{not json",
        headers={**admin, "Content-Type": "application/json"},
    )

    # Then it is 422 on the body
    assert response.status_code == 422
    assert response.json()["error"]["details"]["errors"][0]["path"] == "body"


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/api/v1/no-such-thing", 404, "not_found"),
        ("DELETE", "/health", 405, "method_not_allowed"),
        ("GET", "/api/v1/flags/missing", 404, "not_found"),
        ("GET", "/api/v1/flags/x/versions/not-a-number", 422, "validation_error"),
    ],
)
def test_errors_share_one_shape(  # pytest injects each parameter
    client: TestClient, admin: dict[str, str], method: str, path: str, status: int, code: str
) -> None:
    # Given / When a request goes wrong
    response = client.request(method, path, params=ENV, headers=admin)

    # Then the body is {"error": {"code", "message", "details"}}
    assert response.status_code == status
    assert set(response.json()) == {"error"}
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]
    assert isinstance(response.json()["error"]["details"], dict)


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("GET", "/api/v1/flags/f/versions/99999999999", None, "path.version"),
        ("POST", "/api/v1/flags/f/restore", {"version": 10**20}, "body.version"),
        ("POST", "/api/v1/flags/f/enable", {"expected_version": 10**11}, "body.expected_version"),
        (
            "DELETE",
            "/api/v1/flags/f?environment=production&expected_version=9999999999",
            None,
            "query.expected_version",
        ),
        ("GET", "/api/v1/audit?before_id=99999999999999999999", None, "query.before_id"),
    ],
)
def test_numbers_too_large_to_store_are_validation_errors(
    client: TestClient,
    admin: dict[str, str],
    method: str,
    path: str,
    body: dict[str, int] | None,
    field: str,
) -> None:
    # Given a flag
    client.post("/api/v1/flags", params=ENV, json={"key": "f"}, headers=admin)

    # When a version or id beyond what the database holds is sent
    url = path if "?" in path else f"{path}?environment=production"
    response = client.request(method, url, json=body, headers=admin)

    # Then it is refused as invalid input, naming the field, not a server error
    assert response.status_code == 422
    assert [problem["path"] for problem in response.json()["error"]["details"]["errors"]] == [field]


def test_an_oversized_if_match_is_a_validation_error(
    client: TestClient, admin: dict[str, str]
) -> None:
    # Given a flag
    client.post("/api/v1/flags", params=ENV, json={"key": "f"}, headers=admin)

    # When an update sends a version beyond what the database holds
    response = client.put(
        "/api/v1/flags/f",
        params=ENV,
        json={"definition": {}},
        headers={**admin, "If-Match": '"99999999999"'},
    )

    # Then the header is named
    assert response.status_code == 422
    assert response.json()["error"]["details"] == {"path": "header.If-Match"}
