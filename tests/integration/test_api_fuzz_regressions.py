"""Bugs the schema fuzzing (``test_api_schema_fuzz.py``) found, pinned one request each."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from rheostat import service
from rheostat.api import create_app
from rheostat.service import SqlStore
from rheostat.settings import Settings

PRODUCTION = {"environment": "production"}


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


@pytest.mark.parametrize("body", [b"\xff", b'{"key": "caf\xe9"}'], ids=["invalid-byte", "latin-1"])
def test_a_body_that_is_not_utf8_is_a_422_naming_the_body(
    client: TestClient, admin: dict[str, str], body: bytes
) -> None:
    # Given a JSON content type whose bytes are not UTF-8 text
    headers = {**admin, "Content-Type": "application/json"}

    # When it is sent to a route that reads a body
    response = client.post("/api/v1/flags", params=PRODUCTION, content=body, headers=headers)

    # Then it is malformed JSON like any other (422), not FastAPI's undocumented 400
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["message"].startswith("body: invalid JSON (")
    assert error["details"]["errors"] == [
        {"path": "body", "message": error["message"].removeprefix("body: "), "type": "json_invalid"}
    ]
