"""``--json`` output: service values made JSON-ready."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rheostat.cli.options import default_actor
from rheostat.cli.output import to_json_data
from rheostat.service import ApiKey, ApiKeyScope, ImportResult

AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_dataclasses_enums_and_datetimes_become_json_values() -> None:
    # Given an API key value
    key = ApiKey(
        id="k1",
        name="ops",
        scope=ApiKeyScope.ADMIN,
        environment=None,
        prefix="rh_admin_ab",
        created_at=AT,
        created_by="alice",
    )

    # When it is converted
    data = to_json_data([key])

    # Then every field is a plain JSON value
    assert data == [
        {
            "id": "k1",
            "name": "ops",
            "scope": "admin",
            "environment": None,
            "prefix": "rh_admin_ab",
            "created_at": "2026-01-02T03:04:05+00:00",
            "created_by": "alice",
            "revoked_at": None,
        }
    ]


def test_tuples_become_lists() -> None:
    # Given / When / Then
    assert to_json_data(ImportResult(created=("a", "b")))["created"] == ["a", "b"]


def test_a_given_actor_is_used_as_is() -> None:
    # Given / When / Then
    assert default_actor("  alice ") == "alice"


def test_without_an_actor_the_login_name_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given USER is set / When no actor is given / Then the login name is the actor
    monkeypatch.setenv("LOGNAME", "bob")
    monkeypatch.setenv("USER", "bob")
    assert default_actor(None) == "bob"
