"""The flag life cycle through the HTTP API, on SQLite and PostgreSQL.

Covers the issue's "done when": create an environment and an admin key, create a flag, ramp it
to 12.5 %, kill it, see the kill on /health, read the history with who/when/why, restore the
previous version, and race two updates without losing one (409).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rheostat import Context, FlagSet, service
from rheostat.api import create_app
from rheostat.service import SqlStore
from rheostat.settings import Settings

ENV = {"environment": "production"}


@pytest.fixture
def client(store_url: str, store: SqlStore) -> Iterator[TestClient]:
    """The app on the test's database (migrated by ``store``), lifespan running."""
    with TestClient(create_app(Settings(database_url=store_url))) as test_client:
        yield test_client


@pytest.fixture
def admin(store: SqlStore) -> dict[str, str]:
    """Headers of an admin key, made the way an operator bootstraps: outside the API."""
    created = service.transact(
        store,
        service.create_api_key,
        name="ops",
        scope="admin",
        change=service.Change(actor="bootstrap"),
    )
    return {"Authorization": f"Bearer {created.token}"}


@pytest.fixture
def production(client: TestClient, admin: dict[str, str]) -> None:
    """A ``production`` environment, created through the API."""
    response = client.post("/api/v1/environments", json={"key": "production"}, headers=admin)
    assert response.status_code == 201


def _create_flag(client: TestClient, admin: dict[str, str], key: str = "new-checkout") -> Any:
    body = {"key": key, "definition": {"description": "New checkout"}, "reason": "ship dark"}
    response = client.post("/api/v1/flags", params=ENV, json=body, headers=admin)
    assert response.status_code == 201, response.text
    return response.json()


def _exposed(document: Any, users: int = 10_000) -> int:
    flags = FlagSet.from_dict(document)
    return sum(flags.is_enabled("new-checkout", Context(key=f"user-{n}")) for n in range(users))


def test_the_flag_life_cycle_from_creation_to_restore(
    client: TestClient, admin: dict[str, str]
) -> None:
    # Given an environment, an SDK key for it and a flag ramped to 12.5 %
    assert client.post("/api/v1/environments", json={"key": "production"}, headers=admin).is_success
    sdk_body = {"name": "checkout", "scope": "sdk", "environment": "production"}
    sdk_token = client.post("/api/v1/keys", json=sdk_body, headers=admin).json()["token"]
    sdk = {"Authorization": f"Bearer {sdk_token}"}
    _create_flag(client, admin)
    ramp = {"percent": 12.5, "reason": "canary"}
    ramped = client.post("/api/v1/flags/new-checkout/rollout", params=ENV, json=ramp, headers=admin)
    assert ramped.status_code == 200

    # When an SDK evaluates 10,000 users, then the flag is killed
    exposed = _exposed(client.get("/api/v1/client/flags", headers=sdk).json())
    kill = {"reason": "errors up 4x"}
    killed = client.post("/api/v1/flags/new-checkout/kill", params=ENV, json=kill, headers=admin)
    health_after_kill = client.get("/health").json()
    after_kill = _exposed(client.get("/api/v1/client/flags", headers=sdk).json())

    # Then about 12.5 % had it, nobody has it after the kill, and /health shows the kill switch
    assert 1_150 <= exposed <= 1_350
    assert killed.json()["enabled"] is False
    assert after_kill == 0
    assert health_after_kill["kill_switches"] == {"production": {"new-checkout": True}}
    assert health_after_kill["kill_switches_engaged"] == 1

    # When the history is read and the version before the kill is restored
    history = client.get("/api/v1/flags/new-checkout/history", params=ENV, headers=admin).json()
    restore = {"version": 2, "expected_version": 3, "reason": "fix deployed"}
    restored = client.post(
        "/api/v1/flags/new-checkout/restore", params=ENV, json=restore, headers=admin
    )

    # Then the history says who, when and why, and the same users have the flag again
    rows = [(v["version"], v["action"], v["actor"], v["reason"]) for v in history["items"]]
    assert rows == [
        (3, "flag.killed", "api-key:ops", "errors up 4x"),
        (2, "flag.rollout_set", "api-key:ops", "canary"),
        (1, "flag.created", "api-key:ops", "ship dark"),
    ]
    assert all(v["created_at"] for v in history["items"])
    assert restored.status_code == 200
    assert restored.json()["version"] == 4
    assert restored.json()["enabled"] is True
    assert _exposed(client.get("/api/v1/client/flags", headers=sdk).json()) == exposed
    assert client.get("/health").json()["kill_switches_engaged"] == 0


@pytest.mark.usefixtures("production")
def test_a_stale_update_gets_409_and_the_retry_keeps_both_changes(
    client: TestClient, admin: dict[str, str]
) -> None:
    # Given two people who read the same version of a flag
    read = _create_flag(client, admin)
    first = {**read["definition"], "description": "New checkout, v2"}
    second = {**read["definition"], "targets": [{"variant": "on", "keys": ["user-1"]}]}

    # When both save their change based on that version
    url = "/api/v1/flags/new-checkout"
    won = client.put(
        url, params=ENV, json={"definition": first, "expected_version": 1}, headers=admin
    )
    lost = client.put(
        url, params=ENV, json={"definition": second, "expected_version": 1}, headers=admin
    )

    # Then the second is refused with 409 and nothing of it is written
    assert won.status_code == 200
    assert lost.status_code == 409
    assert lost.json()["error"]["code"] == "conflict"
    assert lost.json()["error"]["details"]["current_version"] == 2
    assert client.get(url, params=ENV, headers=admin).json()["definition"]["targets"] == []

    # When the second person reads again and reapplies the change
    fresh = client.get(url, params=ENV, headers=admin)
    retried = {**fresh.json()["definition"], "targets": second["targets"]}
    saved = client.put(
        url,
        params=ENV,
        json={"definition": retried},
        headers={**admin, "If-Match": fresh.headers["ETag"]},
    )

    # Then both changes are there: nothing was lost
    assert saved.status_code == 200
    assert saved.json()["definition"]["description"] == "New checkout, v2"
    assert saved.json()["definition"]["targets"][0]["keys"] == ["user-1"]


@pytest.mark.usefixtures("production")
def test_if_match_with_a_stale_version_is_refused(
    client: TestClient, admin: dict[str, str]
) -> None:
    # Given a flag changed after it was read
    _create_flag(client, admin)
    client.post("/api/v1/flags/new-checkout/disable", params=ENV, headers=admin)

    # When an update names the version read before that change
    response = client.put(
        "/api/v1/flags/new-checkout",
        params=ENV,
        json={"definition": {}},
        headers={**admin, "If-Match": '"1"'},
    )

    # Then it is a conflict
    assert response.status_code == 409
    assert response.json()["error"]["details"]["expected_version"] == 1


@pytest.mark.usefixtures("production")
def test_an_update_without_the_version_read_is_refused_with_the_field_named(
    client: TestClient, admin: dict[str, str]
) -> None:
    # Given a flag
    _create_flag(client, admin)

    # When it is replaced without expected_version or If-Match
    response = client.put(
        "/api/v1/flags/new-checkout", params=ENV, json={"definition": {}}, headers=admin
    )

    # Then the request is invalid and the error says which field is missing
    assert response.status_code == 422
    assert response.json()["error"]["details"]["path"] == "body.expected_version"


@pytest.mark.usefixtures("production")
def test_responses_carry_the_flag_version_as_etag(
    client: TestClient, admin: dict[str, str]
) -> None:
    # Given a flag that was changed once
    _create_flag(client, admin)
    client.post(
        "/api/v1/flags/new-checkout/rollout", params=ENV, json={"percent": 5}, headers=admin
    )

    # When it is read
    response = client.get("/api/v1/flags/new-checkout", params=ENV, headers=admin)

    # Then its ETag is its version
    assert response.headers["ETag"] == '"2"'
    assert response.json()["version"] == 2


@pytest.mark.usefixtures("production")
def test_the_targeted_changes_each_make_one_new_version(
    client: TestClient, admin: dict[str, str]
) -> None:
    # Given a flag
    _create_flag(client, admin)
    url = "/api/v1/flags/new-checkout"

    # When it is targeted, untargeted, disabled and enabled
    steps = [
        client.post(f"{url}/targets", params=ENV, json={"users": ["u1"]}, headers=admin),
        client.post(f"{url}/targets/remove", params=ENV, json={"users": ["u1"]}, headers=admin),
        client.post(f"{url}/disable", params=ENV, json={"reason": "pause"}, headers=admin),
        client.post(f"{url}/enable", params=ENV, headers=admin),
    ]

    # Then each answered with the new version, and the history lists every step
    assert [step.json()["version"] for step in steps] == [2, 3, 4, 5]
    history = client.get(f"{url}/history", params=ENV, headers=admin).json()["items"]
    assert [item["action"] for item in history[:4]] == [
        "flag.enabled",
        "flag.disabled",
        "flag.targets_removed",
        "flag.targets_added",
    ]


@pytest.mark.usefixtures("production")
def test_a_deleted_flag_can_be_restored_from_its_history(
    client: TestClient, admin: dict[str, str]
) -> None:
    # Given a flag that was deleted
    _create_flag(client, admin)
    url = "/api/v1/flags/new-checkout"
    deleted = client.delete(url, params={**ENV, "reason": "cleanup"}, headers=admin)

    # When its first version is restored
    gone = client.get(url, params=ENV, headers=admin)
    version = client.get(f"{url}/versions/1", params=ENV, headers=admin)
    restore = {"version": 1, "expected_version": 2}  # the deleted version it replaces
    restored = client.post(f"{url}/restore", params=ENV, json=restore, headers=admin)

    # Then it was gone, and it is back with a new version
    assert deleted.status_code == 204
    assert gone.status_code == 404
    assert version.json()["definition"]["description"] == "New checkout"
    assert restored.status_code == 200
    assert restored.json()["description"] == "New checkout"


@pytest.mark.usefixtures("production")
def test_the_rollout_status_view_lists_every_flag_with_state_and_rollout(
    client: TestClient, admin: dict[str, str]
) -> None:
    # Given one flag at 25 % and one killed
    _create_flag(client, admin, "new-checkout")
    _create_flag(client, admin, "hybrid-search")
    client.post(
        "/api/v1/flags/new-checkout/rollout", params=ENV, json={"percent": 25}, headers=admin
    )
    client.post("/api/v1/flags/hybrid-search/kill", params=ENV, headers=admin)

    # When the rollout status is read
    flags = client.get("/api/v1/config/flags", headers=admin).json()["flags"]

    # Then each flag shows its state and share
    rows = [(f["key"], f["state"], f["rollout_percent"]) for f in flags]
    assert rows == [("hybrid-search", "disabled", None), ("new-checkout", "percentage", 25.0)]


@pytest.mark.usefixtures("production")
def test_flag_stats_count_versions_and_targets(client: TestClient, admin: dict[str, str]) -> None:
    # Given a flag ramped and targeted
    _create_flag(client, admin)
    url = "/api/v1/flags/new-checkout"
    client.post(f"{url}/rollout", params=ENV, json={"percent": 10}, headers=admin)
    client.post(f"{url}/targets", params=ENV, json={"users": ["u1", "u2"]}, headers=admin)

    # When its stats are read
    stats = client.get(f"{url}/stats", params=ENV, headers=admin).json()

    # Then they describe it
    assert stats["state"] == "percentage"
    assert stats["rollout_percent"] == 10.0
    assert stats["versions"] == 3
    assert stats["targeted_users"] == 2
    assert stats["last_changed_by"] == "api-key:ops"


@pytest.mark.usefixtures("production")
def test_a_restore_naming_no_version_is_refused(client: TestClient, admin: dict[str, str]) -> None:
    # Given a flag at version 2
    _create_flag(client, admin)
    url = "/api/v1/flags/new-checkout"
    client.post(f"{url}/rollout", params=ENV, json={"percent": 50}, headers=admin)

    # When version 1 is restored without saying which version it replaces
    refused = client.post(f"{url}/restore", params=ENV, json={"version": 1}, headers=admin)

    # Then it is a 422 naming expected_version, and the flag is unchanged
    assert refused.status_code == 422
    assert "expected_version" in refused.text
    assert client.get(url, params=ENV, headers=admin).json()["version"] == 2
