"""Evaluation on the server: OFREP (single and bulk) and ``POST /api/v1/client/evaluate``.

The app runs in process on SQLite and PostgreSQL with two environments, each with its own sdk
key. Every answer is compared with the engine's own evaluation of the document the same key
downloads from ``/api/v1/client/flags``: remote and local evaluation agree.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rheostat import service
from rheostat.api import create_app
from rheostat.flags import Context, FlagSet
from rheostat.service import Change, SqlStore, transact
from rheostat.settings import Settings

PRODUCTION = "production"
STAGING = "staging"
SETUP = Change(actor="setup")
FLAGS: dict[str, dict[str, Any]] = {
    "checkout": {
        "variants": {"on": True, "off": False},
        "default": "off",
        "rules": [
            {"when": [{"attribute": "plan", "op": "in", "values": ["pro"]}], "serve": "on"},
            {"serve": {"split": {"on": 25, "off": 75}, "by": "key"}},
        ],
    },
    "banner": {"variants": {"blue": "blue", "green": "green"}, "default": "blue"},
    "limit": {
        "variants": {"low": 10, "high": 100},
        "default": "low",
        "rules": [{"when": [{"attribute": "country", "op": "eq", "value": "CA"}], "serve": "high"}],
    },
    "theme": {
        "variants": {"dark": {"bg": "#000", "size": 1.5}, "light": {"bg": "#fff", "size": 1}},
        "default": "light",
        "targets": [{"variant": "dark", "keys": ["user-7"]}],
    },
    "search": {"enabled": False, "variants": {"on": True, "off": False}, "default": "off"},
    "upsell": {
        "variants": {"on": True, "off": False},
        "default": "off",
        "prerequisites": [{"flag": "search", "variants": ["on"]}],
        "rules": [{"serve": "on"}],
    },
}
CONTEXTS = [
    {"targetingKey": "user-1"},
    {"targetingKey": "user-7", "plan": "pro"},
    {"targetingKey": "user-42", "country": "CA", "groups": ["beta"]},
    {"targetingKey": "user-1000", "plan": "free", "country": "FR"},
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Api:
    client: TestClient
    production: dict[str, str]
    staging: dict[str, str]
    admin: dict[str, str]
    store: SqlStore


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api(store: SqlStore, store_url: str) -> Iterator[Api]:
    tokens = {}
    for environment in (PRODUCTION, STAGING):
        transact(store, service.create_environment, environment, change=SETUP)
        name = f"app-{environment}"
        tokens[environment] = transact(
            store, service.create_api_key, name=name, scope="sdk", environment=environment,
            change=SETUP,
        ).token  # fmt: skip
    for key, definition in FLAGS.items():
        transact(store, service.create_flag, PRODUCTION, key, definition, change=SETUP)
    transact(store, service.create_flag, STAGING, "staging-only", {}, change=SETUP)
    admin = transact(store, service.create_api_key, name="ops", scope="admin", change=SETUP)
    with TestClient(create_app(Settings(database_url=store_url))) as client:
        yield Api(
            client=client,
            production=_bearer(tokens[PRODUCTION]),
            staging=_bearer(tokens[STAGING]),
            admin=_bearer(admin.token),
            store=store,
        )


def _local_flags(api: Api, headers: dict[str, str]) -> FlagSet:
    response = api.client.get("/api/v1/client/flags", headers=headers)
    assert response.status_code == 200
    return FlagSet.from_dict(response.json())


def _context(ofrep_context: dict[str, Any]) -> Context:
    attributes = {k: v for k, v in ofrep_context.items() if k != "targetingKey"}
    return Context(key=ofrep_context.get("targetingKey", ""), attributes=attributes)


def _single(api: Api, key: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    return api.client.post(
        f"/ofrep/v1/evaluate/flags/{key}", json=body, headers=headers or api.production
    )


# OFREP single ---------------------------------------------------------------------------------


def test_single_evaluation_answers_what_the_engine_answers_locally(api: Api) -> None:
    # Given the document the same sdk key downloads, evaluated locally
    local = _local_flags(api, api.production)
    expected_reasons = {"PREREQUISITE_FAILED": "DISABLED"}
    for context in CONTEXTS:
        for key in FLAGS:
            # When the flag is evaluated through OFREP for the same context
            response = _single(api, key, {"context": context})
            evaluation = local.evaluate(key, _context(context))

            # Then the value, variant and reason are the engine's, in OFREP's shape
            assert response.status_code == 200, response.text
            assert response.headers["content-type"] == "application/json"
            reason = evaluation.reason.value
            assert response.json() == {
                "key": key,
                "value": evaluation.value,
                "reason": expected_reasons.get(reason, reason),
                "variant": evaluation.variant,
                "metadata": {"flagVersion": evaluation.version, "rheostatReason": reason},
            }


def test_reasons_are_openfeature_reasons(api: Api) -> None:
    asked = [
        ("banner", {"targetingKey": "u"}),
        ("checkout", {"targetingKey": "u", "plan": "pro"}),
        ("checkout", {"targetingKey": "u", "plan": "free"}),
        ("limit", {"targetingKey": "u", "country": "FR"}),
        ("search", {"targetingKey": "u"}),
        ("upsell", {"targetingKey": "u"}),
    ]
    reasons = [_single(api, key, {"context": context}).json()["reason"] for key, context in asked]
    assert reasons == [
        "STATIC",
        "TARGETING_MATCH",
        "SPLIT",
        "DEFAULT",
        "DISABLED",
        "DISABLED",  # its prerequisite is killed (PREREQUISITE_FAILED): off for everyone
    ]


def test_an_unknown_flag_is_404_flag_not_found(api: Api) -> None:
    response = _single(api, "nope", {"context": {"targetingKey": "user-1"}})
    assert response.status_code == 404
    assert response.json() == {
        "key": "nope",
        "errorCode": "FLAG_NOT_FOUND",
        "errorDetails": "flag 'nope' was not found",
        "metadata": {"rheostatReason": "ERROR"},
    }


def test_a_missing_targeting_key_matters_only_to_a_flag_that_buckets_by_it(api: Api) -> None:
    # Given a context without a targeting key
    anonymous = {"context": {"plan": "free"}}

    # When a flag that splits by key, and flags that do not, are evaluated for it
    keyed = _single(api, "checkout", anonymous)
    static = _single(api, "banner", anonymous)
    targeted = _single(api, "limit", {"context": {"country": "CA"}})
    killed = _single(api, "search", {})

    # Then only the split flag refuses, with OFREP's TARGETING_KEY_MISSING
    assert keyed.status_code == 400
    assert keyed.json()["errorCode"] == "TARGETING_KEY_MISSING"
    assert keyed.json()["key"] == "checkout"
    assert "targeting key" in keyed.json()["errorDetails"]
    assert (static.status_code, static.json()["value"]) == (200, "blue")
    assert (targeted.status_code, targeted.json()["value"]) == (200, 100)
    assert (killed.status_code, killed.json()["reason"]) == (200, "DISABLED")


@pytest.mark.parametrize(
    ("body", "code", "details"),
    [
        (b"{not json", "PARSE_ERROR", "body: not JSON"),
        (b'{"context": {"targetingKey": "u", "n": NaN}}', "PARSE_ERROR", "NaN"),
        (b"\xff\xfe", "PARSE_ERROR", "body: not JSON"),
        (b"[1, 2]", "INVALID_CONTEXT", "body: must be a JSON object, got an array"),
        (b'{"context": "user-1"}', "INVALID_CONTEXT", "body.context: must be a JSON object"),
        (b'{"context": {"targetingKey": 7}}', "INVALID_CONTEXT", "body.context.targetingKey"),
    ],
)
def test_a_bad_body_is_400_in_ofrep_shape(api: Api, body: bytes, code: str, details: str) -> None:
    for path, expected_key in (("/ofrep/v1/evaluate/flags/banner", {"key": "banner"}),
                               ("/ofrep/v1/evaluate/flags", {})):  # fmt: skip
        response = api.client.post(
            path, content=body, headers={**api.production, "Content-Type": "application/json"}
        )
        assert response.status_code == 400, response.text
        answer = response.json()
        assert answer["errorCode"] == code
        assert details in answer["errorDetails"]
        assert set(answer) == {*expected_key, "errorCode", "errorDetails"}


def test_a_body_without_context_is_an_empty_context(api: Api) -> None:
    # the Python OFREP provider sends {} when there is no evaluation context
    for body in (b"{}", b"", b'{"context": null}'):
        response = api.client.post(
            "/ofrep/v1/evaluate/flags/banner", content=body, headers=api.production
        )
        assert (response.status_code, response.json()["value"]) == (200, "blue")


# Keys and environments --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/ofrep/v1/evaluate/flags/banner", "/ofrep/v1/evaluate/flags", "/api/v1/client/evaluate"],
)
def test_keys_are_checked_and_scoped_to_their_environment(api: Api, path: str) -> None:
    body = {"context": {"targetingKey": "user-1"}} if "ofrep" in path else {}
    no_key = api.client.post(path, json=body)
    wrong_key = api.client.post(path, json=body, headers=_bearer("rh_sdk_not-a-real-key"))
    other_environment = api.client.post(
        path, json=body, headers=api.staging, params={"environment": PRODUCTION}
    )
    own_environment = api.client.post(
        path, json=body, headers=api.production, params={"environment": PRODUCTION}
    )
    admin_naming_it = api.client.post(
        path, json=body, headers=api.admin, params={"environment": PRODUCTION}
    )

    assert no_key.status_code == 401
    assert no_key.json()["error"]["code"] == "unauthenticated"
    assert wrong_key.status_code == 401
    assert other_environment.status_code == 403
    assert other_environment.json()["error"]["code"] == "permission_denied"
    assert own_environment.status_code == 200
    assert admin_naming_it.status_code == 200


def test_the_environment_comes_from_the_key(api: Api) -> None:
    # Given a flag that exists in staging only, and production flags
    body = {"context": {"targetingKey": "user-1"}}

    # When each key evaluates both
    staging_own = _single(api, "staging-only", body, api.staging)
    staging_other = _single(api, "banner", body, api.staging)
    production_other = _single(api, "staging-only", body, api.production)
    bulk = api.client.post("/ofrep/v1/evaluate/flags", json=body, headers=api.staging)

    # Then each key sees its own environment's flags only
    assert staging_own.status_code == 200
    assert staging_other.status_code == 404
    assert production_other.status_code == 404
    assert [flag["key"] for flag in bulk.json()["flags"]] == ["staging-only"]
    assert bulk.json()["metadata"] == {"environment": STAGING}


# OFREP bulk -----------------------------------------------------------------------------------


def test_bulk_evaluates_every_flag_with_per_flag_errors(api: Api) -> None:
    local = _local_flags(api, api.production)

    with_key = api.client.post(
        "/ofrep/v1/evaluate/flags", json={"context": CONTEXTS[1]}, headers=api.production
    )
    without_key = api.client.post(
        "/ofrep/v1/evaluate/flags", json={"context": {"plan": "pro"}}, headers=api.production
    )

    assert with_key.status_code == 200
    flags = with_key.json()["flags"]
    assert [flag["key"] for flag in flags] == sorted(FLAGS)
    for flag in flags:
        evaluation = local.evaluate(flag["key"], _context(CONTEXTS[1]))
        assert (flag["value"], flag["variant"]) == (evaluation.value, evaluation.variant)
    errors = {flag["key"]: flag for flag in without_key.json()["flags"] if "errorCode" in flag}
    assert set(errors) == {"checkout"}
    assert errors["checkout"]["errorCode"] == "TARGETING_KEY_MISSING"


def test_bulk_answers_304_while_neither_flags_nor_context_change(api: Api) -> None:
    # Given a bulk answer and its ETag
    body = {"context": {"targetingKey": "user-1", "plan": "free"}}
    first = api.client.post("/ofrep/v1/evaluate/flags", json=body, headers=api.production)
    etag = first.headers["ETag"]
    again = {**api.production, "If-None-Match": etag}

    # When the same client polls, another context polls with the same ETag, and a flag changes
    unchanged = api.client.post("/ofrep/v1/evaluate/flags", json=body, headers=again)
    reordered = api.client.post(
        "/ofrep/v1/evaluate/flags",
        json={"context": {"plan": "free", "targetingKey": "user-1"}},
        headers=again,
    )
    other_context = api.client.post(
        "/ofrep/v1/evaluate/flags", json={"context": {"targetingKey": "user-2"}}, headers=again
    )
    transact(api.store, service.kill_flag, PRODUCTION, "banner", change=SETUP)
    changed = api.client.post("/ofrep/v1/evaluate/flags", json=body, headers=again)

    # Then only the unchanged poll is a 304 (no body); the change comes with a new ETag
    assert first.status_code == 200
    assert etag.startswith('"')
    assert etag.endswith('"')
    assert (unchanged.status_code, unchanged.content) == (304, b"")
    assert unchanged.headers["ETag"] == etag
    assert reordered.status_code == 304
    assert other_context.status_code == 200
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    banner = next(flag for flag in changed.json()["flags"] if flag["key"] == "banner")
    assert banner["reason"] == "DISABLED"


def test_a_change_is_evaluated_at_once_without_recompiling_in_between(api: Api) -> None:
    # Given two evaluations with no change between them
    body = {"context": {"targetingKey": "user-1"}}
    _single(api, "banner", body)
    cache = api.client.app.state.flag_sets  # type: ignore[attr-defined]
    compiled = cache._compiled[PRODUCTION]
    _single(api, "banner", body)
    unchanged = cache._compiled[PRODUCTION]

    # When the flag changes
    transact(api.store, service.kill_flag, PRODUCTION, "banner", change=SETUP)
    after = _single(api, "banner", body)

    # Then the compiled set was reused, and the change is served at once
    assert unchanged is compiled
    assert after.json()["reason"] == "DISABLED"
    assert cache._compiled[PRODUCTION] is not compiled


# /api/v1/client/evaluate ------------------------------------------------------------------------


def test_client_evaluate_answers_the_engines_evaluation_in_the_order_asked(api: Api) -> None:
    local = _local_flags(api, api.production)
    context = {"key": "user-42", "attributes": {"country": "CA", "plan": "pro"}}
    asked = ["theme", "nope", "checkout", "limit", "upsell"]

    response = api.client.post(
        "/api/v1/client/evaluate",
        json={"context": context, "flags": asked},
        headers=api.production,
    )

    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["environment"] == PRODUCTION
    assert answer["revision"] >= 1
    assert [result["key"] for result in answer["results"]] == asked
    engine = Context(key="user-42", attributes={"country": "CA", "plan": "pro"})
    for result in answer["results"]:
        evaluation = local.evaluate(result["key"], engine)
        assert result["reason"] == evaluation.reason.value
        assert result["version"] == evaluation.version
        if result["key"] == "nope":
            assert result["error_code"] == "FLAG_NOT_FOUND"
            assert result["value"] is None
            assert result["error_message"] == "flag 'nope' was not found"
        else:
            assert (result["value"], result["variant"]) == (evaluation.value, evaluation.variant)
            assert result["error_code"] is None


def test_client_evaluate_without_flags_evaluates_every_flag_like_the_engine(api: Api) -> None:
    # an anonymous context: the engine skips the key split (no TARGETING_KEY_MISSING here)
    response = api.client.post("/api/v1/client/evaluate", json={}, headers=api.production)
    results = {result["key"]: result for result in response.json()["results"]}
    assert list(results) == sorted(FLAGS)
    assert results["checkout"]["reason"] == "DEFAULT"
    assert results["checkout"]["value"] is False
    assert results["upsell"]["reason"] == "PREREQUISITE_FAILED"


@pytest.mark.parametrize(
    "body",
    [
        {"context": {"key": 7}},
        {"context": {"attributes": []}},
        {"flags": "checkout"},
        {"flags": ["x"] * 1001},
        {"contxt": {}},
    ],
)
def test_client_evaluate_refuses_a_bad_body_with_422(api: Api, body: dict[str, Any]) -> None:
    response = api.client.post("/api/v1/client/evaluate", json=body, headers=api.production)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
