"""``/api/v1/checks``: run a suite over HTTP (what it may reach), and read the stored runs.
On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from rheostat import service
from rheostat.api import create_app
from rheostat.service import Change, SqlStore, transact
from rheostat.settings import Settings

ENV = "production"
STORE_SUITE = {
    "suite": "own",
    "checks": [
        {"name": "db", "kind": "database_reachable"},
        {"name": "schema", "kind": "schema", "tables": ["flags"], "alembic": "head"},
        {"name": "flags", "kind": "flags_defined", "environment": ENV, "flags": ["search", "x"]},
    ],
}


@pytest.fixture
def keys(store: SqlStore) -> dict[str, dict[str, str]]:
    transact(store, service.create_environment, ENV, change=Change(actor="setup"))
    transact(store, service.create_flag, ENV, "search", {}, change=Change(actor="setup"))
    admin = transact(
        store, service.create_api_key, name="ops", scope="admin", change=Change(actor="s")
    )
    sdk = transact(
        store, service.create_api_key, name="app", scope="sdk", environment=ENV,
        change=Change(actor="s"),
    )  # fmt: skip
    return {
        "admin": {"Authorization": f"Bearer {admin.token}"},
        "sdk": {"Authorization": f"Bearer {sdk.token}"},
    }


def _client(store_url: str, **settings: str) -> TestClient:
    return TestClient(create_app(Settings(database_url=store_url, **settings)))


@pytest.fixture
def client(store_url: str, store: SqlStore) -> Iterator[TestClient]:
    with _client(store_url) as test_client:
        yield test_client


def test_a_suite_of_the_own_database_runs_is_stored_and_listed(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    # When an admin posts a suite of checks of rheostat's own database
    posted = client.post("/api/v1/checks/run", json=STORE_SUITE, headers=keys["admin"])

    # Then it ran, each check answered, and the run is stored
    assert posted.status_code == 201, posted.text
    run = posted.json()
    assert run["status"] == "fail"
    assert run["summary"] == {"status": "fail", "passed": 2, "warned": 0, "failed": 1, "total": 3}
    assert [r["status"] for r in run["results"]] == ["pass", "pass", "fail"]
    assert run["results"][2]["evidence"]["missing"] == ["x"]
    assert (run["source"], run["actor"]) == ("api", "api-key:ops")
    fetched = client.get(f"/api/v1/checks/runs/{run['id']}", headers=keys["admin"])
    assert fetched.json() == run
    listed = client.get("/api/v1/checks/runs", headers=keys["admin"]).json()
    assert [item["id"] for item in listed["items"]] == [run["id"]]
    assert listed["next_before_id"] is None


@pytest.mark.parametrize(
    ("check", "path"),
    [
        ({"kind": "command", "run": "touch /tmp/rheostat-pwned"}, "checks[1]"),
        ({"kind": "python", "target": "os:getcwd"}, "checks[1]"),
        ({"kind": "http", "url": "http://169.254.169.254/latest"}, "checks[1]"),
        ({"kind": "database_reachable", "url": "postgresql://10.0.0.1/db"}, "checks[1]"),
    ],
)
def test_checks_that_reach_outside_are_refused_before_anything_runs(
    client: TestClient, keys: dict[str, dict[str, str]], check: dict[str, str], path: str
) -> None:
    suite = {"checks": [{"kind": "database_reachable", "name": "db"}, check]}
    refused = client.post("/api/v1/checks/run", json=suite, headers=keys["admin"])
    assert refused.status_code == 403
    assert refused.json()["error"]["details"]["path"] == path
    assert client.get("/api/v1/checks/runs", headers=keys["admin"]).json()["items"] == []


def test_a_server_may_allow_more_kinds(
    store_url: str, store: SqlStore, keys: dict[str, dict[str, str]], tcp_port: int
) -> None:
    suite = {"checks": [{"kind": "tcp", "host": "127.0.0.1", "port": tcp_port}]}
    with _client(store_url, checks_api_kinds="tcp, http") as client:
        posted = client.post("/api/v1/checks/run", json=suite, headers=keys["admin"])
    assert posted.status_code == 201, posted.text
    assert posted.json()["status"] == "pass"


@pytest.mark.parametrize(
    ("suite", "path"),
    [
        ({"checks": [{"kind": "nope"}]}, "checks[0].kind"),
        ({"checks": [{"kind": "flags_defined", "environment": ENV}]}, "checks[0].flags"),
        (
            {"checks": [{"kind": "flags_defined", "environment": "${HOME}", "flags": ["a"]}]},
            "checks[0].environment",
        ),
        ({"checks": [{"kind": "database_reachable"}], "timeout": -1}, "timeout"),
    ],
)
def test_a_bad_suite_is_422_naming_the_path(
    client: TestClient, keys: dict[str, dict[str, str]], suite: dict[str, object], path: str
) -> None:
    answer = client.post("/api/v1/checks/run", json=suite, headers=keys["admin"])
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["details"]["path"] == path


def test_only_admin_keys_run_or_read_checks(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    assert (
        client.post("/api/v1/checks/run", json=STORE_SUITE, headers=keys["sdk"]).status_code == 403
    )
    assert client.get("/api/v1/checks/runs", headers=keys["sdk"]).status_code == 403
    assert client.post("/api/v1/checks/run", json=STORE_SUITE).status_code == 401
    assert client.get("/api/v1/checks/runs/99", headers=keys["admin"]).status_code == 404
