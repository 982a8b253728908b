"""Who may call what: API keys, scopes, the SDK document and /health.

Every admin route is called with no key (401) and with an ``sdk`` key (403); the route list
comes from the application itself, so a new admin route is covered without editing this file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rheostat import service
from rheostat.api import create_app
from rheostat.service import SqlStore
from rheostat.settings import Settings

_PUBLIC_PREFIXES = ("/health", "/metrics", "/api/v1/client/", "/ofrep/v1/")  # not admin-only


def _admin_routes() -> list[tuple[str, str]]:
    """Every (method, path) of the app but the public ones, read from its OpenAPI document."""
    app = create_app(Settings(database_url="sqlite://"))  # nothing connects before start-up
    return sorted(
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if not path.startswith(_PUBLIC_PREFIXES)
        for method in operations
    )


ADMIN_ROUTES = _admin_routes()


def _concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: "1" if m.group(1) == "version" else "x", path)


class Keys:
    """Tokens made for the module's database."""

    def __init__(self, store: SqlStore) -> None:
        service.transact(
            store, service.create_environment, "production", change=service.Change(actor="test")
        )
        service.transact(
            store, service.create_environment, "staging", change=service.Change(actor="test")
        )
        self.admin = self._make(store, "ops", "admin", None)
        self.sdk = self._make(store, "checkout", "sdk", "production")
        revoked = service.transact(
            store,
            service.create_api_key,
            name="old",
            scope="sdk",
            environment="production",
            change=service.Change(actor="test"),
        )
        service.transact(
            store,
            service.revoke_api_key,
            revoked.api_key.id,
            change=service.Change(actor="test", reason="leaked"),
        )
        self.revoked = revoked.token

    @staticmethod
    def _make(store: SqlStore, name: str, scope: str, environment: str | None) -> str:
        created = service.transact(
            store,
            service.create_api_key,
            name=name,
            scope=scope,
            environment=environment,
            change=service.Change(actor="test"),
        )
        return created.token


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Keys]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('access') / 'rheostat.db'}"
    service.migrate_database(url)
    store = service.open_store(url)
    try:
        yield url, Keys(store)
    finally:
        store.close()


@pytest.fixture(scope="module")
def client(database: tuple[str, Keys]) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=database[0]))) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def keys(database: tuple[str, Keys]) -> Keys:
    return database[1]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_app_has_admin_routes_to_check() -> None:
    # Given the application's routes / When the admin ones are listed / Then all are there
    paths = {path for _, path in ADMIN_ROUTES}
    assert "/api/v1/flags/{key}/kill" in paths
    assert "/api/v1/config/flags" in paths
    assert len(ADMIN_ROUTES) >= 25


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
def test_every_admin_route_refuses_an_sdk_key(
    client: TestClient, keys: Keys, method: str, path: str
) -> None:
    # Given a valid sdk key for production
    headers = _bearer(keys.sdk)

    # When it calls an admin route (whatever the body)
    response = client.request(
        method, _concrete(path), params={"environment": "production"}, headers=headers
    )

    # Then it is refused for its scope
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
def test_every_admin_route_refuses_a_request_without_a_key(
    client: TestClient, method: str, path: str
) -> None:
    # Given no key / When an admin route is called
    response = client.request(method, _concrete(path), params={"environment": "production"})

    # Then the caller must authenticate
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["error"]["code"] == "unauthenticated"


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"Authorization": "Bearer rh_admin_not-a-real-key"}, id="unknown"),
        pytest.param({"Authorization": "Basic b3BzOnNlY3JldA=="}, id="wrong-scheme"),
        pytest.param({"Authorization": "Bearer "}, id="empty"),
    ],
)
def test_a_bad_key_is_unauthenticated(client: TestClient, headers: dict[str, str]) -> None:
    # Given a request with a bad Authorization header / When it lists flags
    response = client.get("/api/v1/flags", params={"environment": "production"}, headers=headers)

    # Then it is 401
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


def test_a_revoked_key_stops_working(client: TestClient, keys: Keys) -> None:
    # Given a revoked sdk key / When it reads its environment's flags
    response = client.get("/api/v1/client/flags", headers=_bearer(keys.revoked))

    # Then it is refused
    assert response.status_code == 401


def test_an_admin_key_works_in_the_x_api_key_header_too(client: TestClient, keys: Keys) -> None:
    # Given an admin key sent as X-API-Key / When it lists environments
    response = client.get("/api/v1/environments", headers={"X-API-Key": keys.admin})

    # Then it is accepted
    assert response.status_code == 200
    assert [item["key"] for item in response.json()["items"]] == ["production", "staging"]


def test_an_sdk_key_reads_its_environment_document(client: TestClient, keys: Keys) -> None:
    # Given an sdk key for production / When it reads the client document
    response = client.get("/api/v1/client/flags", headers=_bearer(keys.sdk))

    # Then it gets a native document with a strong ETag
    assert response.status_code == 200
    assert response.json()["version"] == 1
    assert re.fullmatch(r'"[^"]+"', response.headers["ETag"])


def test_an_sdk_key_cannot_read_another_environment(client: TestClient, keys: Keys) -> None:
    # Given an sdk key for production / When it asks for staging
    response = client.get(
        "/api/v1/client/flags", params={"environment": "staging"}, headers=_bearer(keys.sdk)
    )

    # Then it is refused
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_an_admin_key_must_name_the_environment_it_reads(client: TestClient, keys: Keys) -> None:
    # Given an admin key / When it reads the client document without and with an environment
    unnamed = client.get("/api/v1/client/flags", headers=_bearer(keys.admin))
    named = client.get(
        "/api/v1/client/flags", params={"environment": "staging"}, headers=_bearer(keys.admin)
    )

    # Then the first names the missing parameter and the second succeeds
    assert unnamed.status_code == 422
    assert unnamed.json()["error"]["details"]["path"] == "query.environment"
    assert named.status_code == 200


def test_an_unchanged_document_answers_304_and_a_changed_one_200(
    client: TestClient, keys: Keys
) -> None:
    # Given the ETag of the production document
    first = client.get("/api/v1/client/flags", headers=_bearer(keys.sdk))
    etag = first.headers["ETag"]

    # When it is polled again unchanged, then after a flag is created
    unchanged = client.get(
        "/api/v1/client/flags", headers={**_bearer(keys.sdk), "If-None-Match": etag}
    )
    client.post(
        "/api/v1/flags",
        params={"environment": "production"},
        json={"key": "etag-probe"},
        headers=_bearer(keys.admin),
    )
    changed = client.get(
        "/api/v1/client/flags", headers={**_bearer(keys.sdk), "If-None-Match": etag}
    )

    # Then the first is 304 with no body, the second is the new document with a new ETag
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert "etag-probe" in changed.json()["flags"]


def test_health_needs_no_key_and_reports_the_database(client: TestClient) -> None:
    # Given a running service / When /health is asked without a key
    response = client.get("/health")

    # Then it answers with the database check and the kill switches
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    assert body["database"] == "connected"
    assert "kill_switches" in body


def test_health_is_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    # Given a service whose SQLite file lives in a directory that does not exist
    url = f"sqlite:///{tmp_path / 'missing' / 'rheostat.db'}"

    # When /health is asked
    with TestClient(create_app(Settings(database_url=url))) as test_client:
        response = test_client.get("/health")

    # Then it is unhealthy, so a load balancer takes it out of rotation
    assert response.status_code == 503
    assert response.json()["status"] == "unhealthy"
    assert response.json()["database"] == "unreachable"
