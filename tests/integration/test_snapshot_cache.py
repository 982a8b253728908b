"""The SDK snapshot is cached by environment revision: rebuilt exactly when a change commits.

A change written through another process (another ``SqlStore`` on the same database, as a
second replica would) is seen at once, because the cache compares the revision stored with
the change, not an in-process notification.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from rheostat import service
from rheostat.api import create_app
from rheostat.errors import NotFound
from rheostat.service import Change, SnapshotCache, SqlStore, transact
from rheostat.settings import Settings

ENV = "production"


@pytest.fixture
def production(store: SqlStore) -> SqlStore:
    transact(store, service.create_environment, ENV, change=Change(actor="setup"))
    transact(store, service.create_flag, ENV, "checkout", {}, change=Change(actor="setup"))
    return store


def _cached(cache: SnapshotCache, store: SqlStore) -> service.Snapshot:
    with store.reading() as uow:
        return cache.get(uow, ENV)


def test_the_cache_rebuilds_only_when_a_change_commits(
    production: SqlStore, store_url: str
) -> None:
    # Given a cache that has served the environment once
    cache = SnapshotCache()
    first = _cached(cache, production)

    # When nothing changes, then a change is written through another store (another replica)
    again = _cached(cache, production)
    other = service.open_store(store_url)
    try:
        transact(other, service.kill_flag, ENV, "checkout", change=Change(actor="oncall"))
    finally:
        other.close()
    after = _cached(cache, production)

    # Then the unchanged read is the very same snapshot, and the change is seen at once
    assert again is first
    assert after.revision == first.revision + 1
    assert after.document["flags"]["checkout"]["enabled"] is False
    assert after.etag != first.etag
    assert after.body.startswith(b'{"version":1')


def test_a_rolled_back_change_does_not_move_the_revision(production: SqlStore) -> None:
    # Given a cached snapshot
    cache = SnapshotCache()
    first = _cached(cache, production)

    # When a change is rolled back
    with pytest.raises(RuntimeError), production.unit_of_work() as uow:  # noqa: PT012
        service.kill_flag(uow, ENV, "checkout", change=Change(actor="oncall"))
        raise RuntimeError

    # Then the cache still serves the same snapshot
    assert _cached(cache, production) is first


def test_an_unknown_environment_is_not_found(production: SqlStore) -> None:
    with pytest.raises(NotFound), production.reading() as uow:
        SnapshotCache().get(uow, "nowhere")


@pytest.fixture
def sdk_client(store_url: str, production: SqlStore) -> Iterator[tuple[TestClient, str]]:
    created = transact(
        production, service.create_api_key, name="app", scope="sdk", environment=ENV,
        change=Change(actor="setup"),
    )  # fmt: skip
    with TestClient(create_app(Settings(database_url=store_url))) as client:
        yield client, created.token


def test_the_sdk_endpoint_serves_a_change_made_by_another_replica(
    sdk_client: tuple[TestClient, str], store_url: str
) -> None:
    # Given an SDK that has the current document and its ETag
    client, token = sdk_client
    headers = {"Authorization": f"Bearer {token}"}
    first = client.get("/api/v1/client/flags", headers=headers)
    unchanged = client.get(
        "/api/v1/client/flags", headers={**headers, "If-None-Match": first.headers["ETag"]}
    )

    # When another replica kills the flag
    other = service.open_store(store_url)
    try:
        transact(other, service.kill_flag, ENV, "checkout", change=Change(actor="oncall"))
    finally:
        other.close()
    changed = client.get(
        "/api/v1/client/flags", headers={**headers, "If-None-Match": first.headers["ETag"]}
    )

    # Then the poll before the change was a 304 and the one after gets the kill
    assert unchanged.status_code == 304
    assert changed.status_code == 200
    assert changed.headers["content-type"] == "application/json"
    assert changed.json()["flags"]["checkout"]["enabled"] is False
