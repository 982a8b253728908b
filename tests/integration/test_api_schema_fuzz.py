"""Property-based fuzzing of the HTTP API from its own OpenAPI document (schemathesis).

The app runs in process on a fresh, migrated SQLite file holding a ``production`` environment, a
few flags, a segment and an experiment; every request carries an admin key. For each operation,
schemathesis sends the schema's examples, its coverage cases (boundaries and each way to break a
parameter) and a bounded number of generated requests, valid and invalid, with a fixed seed.
Path and query values are drawn from the seeded keys part of the time, so generated requests
reach the stored flags, not only the 404 for an unknown one.

Every response must hold the product's rules: never a 500 (a user's mistake is a 4xx), every
error in the one body ``{"error": {"code", "message", "details"}}``, and status, content type and
body as the schema documents them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from schemathesis.python import asgi

from rheostat import service
from rheostat.api import create_app
from rheostat.settings import Settings

PRODUCTION = {"environment": "production"}
FLAGS = (
    {"key": "new-checkout", "definition": {"description": "New checkout"}},
    {
        "key": "search-ranking",
        "definition": {
            "variants": {"classic": "classic", "semantic": "semantic"},
            "default": "classic",
            "rules": [
                {
                    "when": [{"attribute": "org_id", "op": "in_segment", "values": ["pilot"]}],
                    "serve": "semantic",
                },
                {"serve": {"split": {"classic": 50, "semantic": 50}, "by": "key"}},
            ],
        },
    },
)
SEGMENT = {
    "key": "pilot",
    "definition": {"conditions": [{"attribute": "org_id", "op": "in", "values": ["org-17"]}]},
}
EXPERIMENT = {
    "key": "checkout-copy",
    "description": "New checkout copy",
    "arms": [
        {"name": "control", "weight_percent": 50, "component": "old-copy"},
        {"name": "treatment", "weight_percent": 50, "component": "new-copy"},
    ],
    "metrics": [
        {"name": "latency_ms", "higher_is_better": False},
        {"name": "purchased", "kind": "proportion"},
    ],
    "duration_days": 14,
}
KNOWN_KEYS = ["new-checkout", "search-ranking", "pilot", "checkout-copy"]
SEED = 20_240_611
MAX_EXAMPLES = 10
"""Generated requests per operation, on top of its examples and coverage cases."""
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
)
"""The built-in checks every response passes (on top of ``errors_have_one_shape``)."""


def errors_have_one_shape(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> None:
    """Every 4xx and 5xx is ``{"error": {"code", "message", "details"}}``, documented or not.

    Except where OFREP prescribes its own: a 400 or a flag's 404 under ``/ofrep/`` is
    ``{"key"?, "errorCode", "errorDetails"}`` (``response_schema_conformance`` checks it).
    """
    del ctx
    if response.status_code < 400:
        return
    body = response.json()
    if _is_ofrep_error(case, response.status_code, body):
        return
    where = f"{case.operation.label} answered {response.status_code}: {body!r}"
    assert set(body) == {"error"}, where
    error = body["error"]
    assert set(error) == {"code", "message", "details"}, where
    assert isinstance(error["code"], str), where
    assert error["code"], where
    assert isinstance(error["message"], str), where
    assert error["message"], where
    assert isinstance(error["details"], dict), where


def _is_ofrep_error(case: schemathesis.Case, status: int, body: object) -> bool:
    return (
        case.operation.path.startswith("/ofrep/")
        and status in {400, 404}
        and isinstance(body, dict)
        and "errorCode" in body
    )


def _seed(database_url: str) -> str:
    """Fill the database through the API; return an admin key's token."""
    service.migrate_database(database_url)
    store = service.open_store(database_url)
    try:
        service.transact(
            store, service.create_environment, "production", change=service.Change(actor="fuzz")
        )
        token = service.transact(
            store,
            service.create_api_key,
            name="fuzz",
            scope="admin",
            change=service.Change(actor="fuzz"),
        ).token
    finally:
        store.close()
    admin = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        requests = [
            ("/api/v1/segments", SEGMENT),
            *(("/api/v1/flags", flag) for flag in FLAGS),
            ("/api/v1/experiments", EXPERIMENT),
        ]
        for url, body in requests:
            response = client.post(url, params=PRODUCTION, json=body, headers=admin)
            assert response.status_code == 201, response.text
    return token


CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        # The machine is shared: a slow draw is not what this test is about.
        "suppress-health-check": ["too_slow"],
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
        "generation": {
            "mode": "all",
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "database": "none",
        },
        "phases": {"coverage": {"unexpected-methods": ["DELETE", "PATCH", "TRACE"]}},
        "dictionaries": {
            "environments": {"values": ["production"]},
            "keys": {"values": KNOWN_KEYS},
        },
        "parameters": {
            "environment": {"dictionary": "environments", "probability": 0.6},
            "key": {"dictionary": "keys", "probability": 0.5},
        },
    }
)
# The document does not depend on the database, and building the app connects to nothing.
schema = schemathesis.openapi.from_dict(
    create_app(Settings(database_url="sqlite://")).openapi(), config=CONFIG
)


@dataclass(frozen=True, slots=True, kw_only=True)
class FuzzedApi:
    """The app on a seeded database, and the headers of its admin key."""

    app: FastAPI
    admin: dict[str, str]


@pytest.fixture(scope="module")
def fuzzed_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzedApi]:
    """The app on a seeded SQLite file; the lifespan schemathesis starts is stopped afterwards."""
    database_url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'rheostat.db'}"
    token = _seed(database_url)
    yield FuzzedApi(
        # an SSE stream ends after stream_max_s: a generated request to it must end too
        # fuzzed webhooks point anywhere: the outbox is not sent from this test
        app=create_app(
            Settings(database_url=database_url, deliver_webhooks=False, stream_max_s=0.05)
        ),
        admin={"Authorization": f"Bearer {token}"},
    )
    asgi.shutdown_lifespans()


@schema.parametrize()
def test_every_operation_answers_generated_requests_as_documented(
    case: schemathesis.Case, fuzzed_api: FuzzedApi
) -> None:
    # Given a generated request (valid or not) for one operation, sent with the admin key
    # When the app answers it
    # Then the answer is no 5xx, is what the schema documents, and any error has the one shape
    case.call_and_validate(
        app=fuzzed_api.app, headers=fuzzed_api.admin, additional_checks=[errors_have_one_shape]
    )
