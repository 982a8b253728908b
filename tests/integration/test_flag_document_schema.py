"""Documents the server really serves are valid under ``docs/schemas/flag-document.schema.json``.

The environment holds flags of every type, every operator, segments, prerequisites, targets,
a percentage rollout, a killed flag and a release plan's exposure with its holdback variant
(written by the same pure edit the plans use), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema_rs
from fastapi.testclient import TestClient

from rheostat import service
from rheostat.api import create_app
from rheostat.flags import FlagSet
from rheostat.flags.edits import with_exposure
from rheostat.service import Change, SqlStore, transact
from rheostat.settings import Settings

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "docs" / "schemas" / "flag-document.schema.json"
ENV = "production"
SETUP = Change(actor="setup")
CONDITIONS: list[dict[str, Any]] = [
    {"attribute": "plan", "op": "eq", "value": "pro"},
    {"attribute": "country", "op": "in", "values": ["CA", "US"], "case_insensitive": True},
    {"attribute": "tier", "op": "not_in", "values": [1, 2.5, True]},
    {"attribute": "email", "op": "contains", "values": ["@example."]},
    {"attribute": "email", "op": "starts_with", "values": ["admin"]},
    {"attribute": "email", "op": "ends_with", "values": [".com"], "negate": True},
    {"attribute": "path", "op": "matches", "values": ["^/api/v[0-9]+/"]},
    {"attribute": "age", "op": "lt", "value": 30},
    {"attribute": "age", "op": "lte", "value": "30.5"},
    {"attribute": "age", "op": "gt", "value": 18},
    {"attribute": "age", "op": "gte", "value": 18},
    {"attribute": "app", "op": "semver_eq", "value": "1.2.3"},
    {"attribute": "app", "op": "semver_lt", "value": "2.0.0-rc.1"},
    {"attribute": "app", "op": "semver_gt", "value": "v1.0.0"},
    {"attribute": "signup", "op": "before", "value": "2026-01-01T00:00:00+00:00"},
    {"attribute": "signup", "op": "after", "value": 1_700_000_000},
    {"attribute": "ip", "op": "in_cidr", "values": ["10.0.0.0/8", "2001:db8::/32"]},
    {"attribute": "key", "op": "in_segment", "values": ["pilot"]},
    {"attribute": "beta", "op": "exists", "values": []},
]
FLAGS: dict[str, dict[str, Any]] = {
    "plain": {},
    "killed": {"enabled": False},
    "every-operator": {
        "variants": {"a": "A", "b": "B"},
        "default": "a",
        "rules": [
            {"name": f"rule-{index}", "when": [condition], "serve": "b"}
            for index, condition in enumerate(CONDITIONS)
        ],
    },
    "limits": {
        "type": "number",
        "variants": {"low": 1, "high": 2.5},
        "default": "low",
        "salt": "limits:v2",
        "prerequisites": [{"flag": "plain", "variants": ["on"]}],
        "targets": [{"variant": "high", "keys": ["user-1"], "groups": ["staff"]}],
        "rules": [{"serve": {"split": {"low": 33.333, "high": 66.667}, "by": "org_id"}}],
    },
    "theme": {
        "variants": {"dark": {"bg": "#000", "sizes": [1, 2]}, "none": None, "list": [1, "x"]},
        "default": "dark",
    },
}


def _validator() -> jsonschema_rs.Validator:
    return jsonschema_rs.Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))


def test_served_documents_are_valid_under_the_schema(store: SqlStore, store_url: str) -> None:
    # Given an environment with every kind of flag, written through the service
    transact(store, service.create_environment, ENV, change=SETUP)
    segment = {"conditions": [{"attribute": "org_id", "op": "in", "values": ["org-17"]}]}
    transact(store, service.create_segment, ENV, "pilot", segment, change=SETUP)
    for key, definition in FLAGS.items():
        transact(store, service.create_flag, ENV, key, definition, change=SETUP)
    released = with_exposure(
        FlagSet.from_dict({"flags": {"release": {}}}).to_dict()["flags"]["release"],
        "release",
        percent=10,
        holdback_percent=5,
        segments=["pilot"],
    )
    transact(store, service.create_flag, ENV, "release", released, change=SETUP)
    transact(store, service.create_flag, ENV, "ramp", {}, change=SETUP)
    token = transact(
        store, service.create_api_key, name="app", scope="sdk", environment=ENV, change=SETUP
    ).token
    headers = {"Authorization": f"Bearer {token}"}
    admin_token = transact(store, service.create_api_key, name="ops", scope="admin", change=SETUP)
    admin = {"Authorization": f"Bearer {admin_token.token}"}
    validator = _validator()

    with TestClient(create_app(Settings(database_url=store_url))) as client:
        # When the document is served, then again after a rollout, a kill and new targets
        first = client.get("/api/v1/client/flags", headers=headers).json()
        params = {"environment": ENV}
        for path, body in (
            ("/api/v1/flags/ramp/rollout", {"percent": 12.5}),
            ("/api/v1/flags/plain/kill", {}),
            ("/api/v1/flags/limits/targets", {"users": ["user-9"], "variant": "high"}),
        ):
            response = client.post(path, params=params, json=body, headers=admin)
            assert response.status_code == 200, response.text
        second = client.get("/api/v1/client/flags", headers=headers).json()

    # Then both are valid under the schema, and the engine loads them back unchanged
    for document in (first, second):
        errors = [error.message for error in validator.iter_errors(document)]
        assert errors == []
        assert FlagSet.from_dict(document).to_dict() == document
    assert set(first["flags"]) == {*FLAGS, "release", "ramp"}
    assert first["flags"]["release"]["variants"]["holdback"] is False
    assert second["flags"]["plain"]["enabled"] is False
    assert second["flags"]["ramp"]["rules"][-1]["serve"]["split"] == {"on": 12.5, "off": 87.5}
