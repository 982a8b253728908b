"""Issue 9: one transaction across services, reads that never wait for writes, and hostile input.

On SQLite and PostgreSQL: a change composed of several service calls commits whole or not at
all, and listeners hear of it only after the commit; lone surrogates, wrong types and huge
bodies are refused at the door (and nothing is stored); on SQLite a long write no longer makes
SDK reads or /health wait.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from rheostat import service
from rheostat.api import create_app
from rheostat.api.deps import Transaction
from rheostat.errors import InvalidDefinition, StorageError, ValidationError
from rheostat.service import Change, SqlStore
from rheostat.settings import Settings

ENV = "production"
ON_OFF: dict[str, Any] = {"description": "new checkout"}


@pytest.fixture
def production(store: SqlStore) -> SqlStore:
    service.transact(store, service.create_environment, ENV, change=Change(actor="setup"))
    service.transact(store, service.create_flag, ENV, "checkout", ON_OFF, change=Change(actor="a"))
    return store


@pytest.fixture
def client(store_url: str, production: SqlStore) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=store_url))) as test_client:
        yield test_client


@pytest.fixture
def admin(production: SqlStore) -> dict[str, str]:
    created = service.transact(
        production, service.create_api_key, name="ops", scope="admin", change=Change(actor="a")
    )
    return {"Authorization": f"Bearer {created.token}"}


class Boom(Exception):
    """The last step of a composed change fails."""


def test_a_composed_change_rolls_back_whole_when_its_last_step_fails(production: SqlStore) -> None:
    # Given a listener for committed changes
    heard: list[str] = []
    production.add_change_listener(heard.append)
    audit_before = service.transact(production, service.list_audit_events, limit=1000)

    # When one transaction ramps the flag, creates another and then fails
    def ramp_create_and_fail() -> None:
        with production.unit_of_work() as uow:
            change = Change(actor="controller")
            service.set_rollout_percentage(uow, ENV, "checkout", 5, change=change)
            service.create_flag(uow, ENV, "other", ON_OFF, change=change)
            raise Boom

    with pytest.raises(Boom):
        ramp_create_and_fail()

    # Then nothing of it is stored, audited or announced
    assert service.transact(production, service.get_flag, ENV, "checkout").version == 1
    assert service.transact(production, service.find_flag, ENV, "other") is None
    audit_after = service.transact(production, service.list_audit_events, limit=1000)
    assert audit_after == audit_before
    assert heard == []


def test_a_composed_change_commits_whole_and_is_announced_after_the_commit(
    production: SqlStore,
) -> None:
    # Given a listener that reads what was committed when it is called
    seen: list[int] = []

    def listener(environment: str) -> None:
        with production.reading() as uow:
            seen.append(service.get_flag(uow, environment, "checkout").version)

    production.add_change_listener(listener)

    # When one transaction makes two changes to the flag
    with production.unit_of_work() as uow:
        service.set_rollout_percentage(uow, ENV, "checkout", 5, change=Change(actor="c"))
        service.add_flag_targets(uow, ENV, "checkout", users=["u1"], change=Change(actor="c"))

    # Then the listener ran once, after the commit, and saw both
    assert seen == [3]


def test_writing_in_a_read_only_transaction_fails_and_stores_nothing(
    production: SqlStore,
) -> None:
    # When / Then a read transaction refuses to write (a programming error, made loud)
    def kill_while_reading() -> None:
        with production.reading() as uow:
            service.kill_flag(uow, ENV, "checkout", change=Change(actor="oops"))

    with pytest.raises(StorageError):
        kill_while_reading()
    assert service.transact(production, service.get_flag, ENV, "checkout").enabled


def test_a_change_value_refuses_bad_facts_at_construction() -> None:
    with pytest.raises(ValidationError, match="actor"):
        Change(actor="")
    with pytest.raises(ValidationError, match="expected_version"):
        Change(actor="a", expected_version=True)
    with pytest.raises(ValidationError, match="surrogate"):
        Change(actor="a", reason="why\ud800")


# Lone surrogates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "definition",
    [
        {"description": "a\ud800b"},
        {"variants": {"on\udc00": True, "off": False}, "default": "off"},
        {"targets": [{"variant": "on", "keys": ["user-\ud800"]}]},
        {
            "rules": [
                {"when": [{"attribute": "org", "op": "in", "values": ["x\ud800"]}], "serve": "on"}
            ]
        },
    ],
    ids=["description", "variant name", "target user", "condition value"],
)
def test_a_lone_surrogate_is_refused_over_http_and_nothing_is_stored(
    client: TestClient, admin: dict[str, str], definition: dict[str, Any]
) -> None:
    # When a flag is replaced with text holding a lone surrogate (JSON "\ud800")
    body = json.dumps({"definition": definition, "expected_version": 1})  # escapes: \\ud800
    response = client.put(
        "/api/v1/flags/checkout",
        params={"environment": ENV},
        content=body,
        headers={**admin, "Content-Type": "application/json"},
    )

    # Then it is a 422 naming the field, and every read still works
    assert response.status_code == 422, response.text
    assert "surrogate" in response.text
    assert "body.definition" in response.text
    for path in ("/api/v1/flags", "/api/v1/config/flags", "/api/v1/audit", "/api/v1/client/flags"):
        assert client.get(path, params={"environment": ENV}, headers=admin).status_code == 200
    flag = client.get("/api/v1/flags/checkout", params={"environment": ENV}, headers=admin)
    assert flag.json()["version"] == 1


def test_a_lone_surrogate_from_python_is_an_invalid_definition(production: SqlStore) -> None:
    with pytest.raises(InvalidDefinition) as refused:
        service.transact(
            production,
            service.create_segment,
            ENV,
            "pilots",
            {"conditions": [{"attribute": "org", "op": "in", "values": ["o\ud800"]}]},
            change=Change(actor="a"),
        )
    assert refused.value.path == "segments.pilots.conditions[0].values[0]"
    with pytest.raises(ValidationError, match="surrogate"):
        service.transact(
            production,
            service.create_environment,
            "staging",
            name="S\udfff",
            change=Change(actor="a"),
        )


# Strict types and size limits ---------------------------------------------------------------------


@pytest.mark.parametrize("percent", ["50", True, None, "nan"])
def test_a_percentage_of_the_wrong_type_is_a_422(
    client: TestClient, admin: dict[str, str], percent: object
) -> None:
    response = client.post(
        "/api/v1/flags/checkout/rollout",
        params={"environment": ENV},
        json={"percent": percent},
        headers=admin,
    )
    assert response.status_code == 422, response.text
    assert "percent" in response.text


def test_nan_is_not_a_percentage(client: TestClient, admin: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/flags/checkout/rollout",
        params={"environment": ENV},
        content=b'{"percent": NaN}',
        headers={**admin, "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text


def test_true_is_not_a_version(client: TestClient, admin: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/flags/checkout/disable",
        params={"environment": ENV},
        json={"expected_version": True},
        headers=admin,
    )
    assert response.status_code == 422, response.text
    assert "expected_version" in response.text


def test_a_body_over_the_limit_is_a_413_and_nothing_is_stored(
    client: TestClient, admin: dict[str, str]
) -> None:
    # When a 2 MiB description is sent (the default limit is 1 MiB)
    body = {"definition": {"description": "x" * 2_097_152}, "expected_version": 1}
    response = client.put(
        "/api/v1/flags/checkout", params={"environment": ENV}, json=body, headers=admin
    )

    # Then
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    flag = client.get("/api/v1/flags/checkout", params={"environment": ENV}, headers=admin)
    assert flag.json()["version"] == 1


def test_adding_many_target_users_keeps_each_once(production: SqlStore) -> None:
    # Given / When 20,000 users are added, then half of them again with 5,000 new ones
    first = [f"user-{n}" for n in range(20_000)]
    again = [f"user-{n}" for n in range(10_000, 25_000)]
    for users in (first, again):
        service.transact(
            production, service.add_flag_targets, ENV, "checkout", users=users,
            change=Change(actor="a"),
        )  # fmt: skip

    # Then every user is listed once, in the order they were first added
    flag = service.transact(production, service.get_flag, ENV, "checkout")
    assert flag.definition["targets"][0]["keys"] == [f"user-{n}" for n in range(25_000)]


# Reads never wait for writes (SQLite) -----------------------------------------------------------


def test_sdk_reads_and_health_do_not_wait_for_a_long_write_on_sqlite(
    sqlite_url: str,
) -> None:
    # Given a migrated SQLite database with a flag, an SDK key and a running app
    service.migrate_database(sqlite_url)
    store = service.open_store(sqlite_url)
    service.transact(store, service.create_environment, ENV, change=Change(actor="a"))
    service.transact(store, service.create_flag, ENV, "checkout", ON_OFF, change=Change(actor="a"))
    sdk = service.transact(
        store, service.create_api_key, name="app", scope="sdk", environment=ENV,
        change=Change(actor="a"),
    )  # fmt: skip
    holding, release = threading.Event(), threading.Event()

    def long_write() -> None:
        with store.unit_of_work() as uow:  # holds SQLite's write lock until released
            service.kill_flag(uow, ENV, "checkout", change=Change(actor="slow"))
            holding.set()
            release.wait(timeout=60)

    writer = threading.Thread(target=long_write)
    settings = Settings(database_url=sqlite_url)
    try:
        with TestClient(create_app(settings)) as client:
            writer.start()
            assert holding.wait(timeout=30)

            # When the SDK and the load balancer ask while the write is in progress
            flags = client.get(
                "/api/v1/client/flags", headers={"Authorization": f"Bearer {sdk.token}"}
            )
            health = client.get("/health")

            # Then both answer at once, with the state committed before the write
            assert flags.status_code == 200, flags.text
            assert flags.json()["flags"]["checkout"]["enabled"] is True
            assert health.status_code == 200
            assert health.json()["status"] == "healthy"
    finally:
        release.set()
        writer.join(timeout=60)
        store.close()


def test_an_sdk_key_of_another_environment_is_refused_before_its_body_is_read(
    client: TestClient, production: SqlStore
) -> None:
    # Given an sdk key of production and a staging environment
    service.transact(production, service.create_environment, "staging", change=Change(actor="a"))
    sdk = service.transact(
        production, service.create_api_key, name="app", scope="sdk", environment=ENV,
        change=Change(actor="a"),
    )  # fmt: skip

    # When it sends an invalid body to staging
    response = client.post(
        "/api/v1/client/experiments/search/exposures",
        params={"environment": "staging"},
        json={"not": "a batch"},
        headers={"Authorization": f"Bearer {sdk.token}"},
    )

    # Then it learns only that it may not: 403, not 422
    assert response.status_code == 403, response.text


def test_a_write_whose_response_fails_to_render_is_rolled_back(
    store_url: str, production: SqlStore
) -> None:
    # Given the app with one more route that writes, then answers what JSON cannot hold
    app = create_app(Settings(database_url=store_url))

    @app.post("/test-only/write-then-fail")
    def write_then_fail(uow: Transaction) -> JSONResponse:
        service.create_environment(uow, "staging", change=Change(actor="test"))
        return JSONResponse({"not a number": float("nan")})  # rendering raises ValueError

    # When it is called
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/test-only/write-then-fail")

    # Then the client got an error and the write was not committed
    assert response.status_code == 500
    assert "staging" not in [e.key for e in service.transact(production, service.list_environments)]
