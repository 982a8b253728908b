"""OpenFeature clients evaluate against a real ``rheostat serve`` through OFREP.

Single-flag evaluation goes through the OpenFeature Python SDK's own client with the
community OFREP provider (``openfeature-provider-ofrep``), so its parsing of our answers is
what is tested, not ours. That provider does not poll the bulk endpoint; a small client that
follows the protocol (POST, ETag, If-None-Match, 304) covers it with httpx. Every value is
compared with the engine's evaluation of the document the same key downloads.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from live_servers import (
    Keys,
    LiveServer,
    prepare_database,
    rheostat,
    start_server,
)
from openfeature import api as openfeature_api
from openfeature.client import OpenFeatureClient
from openfeature.contrib.provider.ofrep import OFREPProvider
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import Reason
from openfeature.provider.no_op_provider import NoOpProvider

from rheostat.flags import Context, FlagSet

FLAGS: dict[str, dict[str, Any]] = {
    "checkout": {
        "variants": {"on": True, "off": False},
        "default": "off",
        "rules": [
            {"when": [{"attribute": "plan", "op": "in", "values": ["pro"]}], "serve": "on"},
            {"serve": {"split": {"on": 50, "off": 50}, "by": "key"}},
        ],
    },
    "banner": {"variants": {"blue": "blue", "green": "green"}, "default": "blue"},
    "limit": {
        "variants": {"low": 10, "high": 100},
        "default": "low",
        "rules": [{"when": [{"attribute": "country", "op": "eq", "value": "CA"}], "serve": "high"}],
    },
    "ratio": {
        "variants": {"small": 0.5, "large": 2.5},
        "default": "small",
        "targets": [{"variant": "large", "keys": ["user-7"]}],
    },
    "theme": {
        "variants": {"dark": {"bg": "#000"}, "light": {"bg": "#fff"}},
        "default": "light",
        "rules": [{"when": [{"attribute": "plan", "op": "eq", "value": "pro"}], "serve": "dark"}],
    },
}
USERS = [
    EvaluationContext("user-1", {}),
    EvaluationContext("user-7", {"plan": "pro"}),
    EvaluationContext("user-42", {"country": "CA", "plan": "free"}),
    EvaluationContext("user-99", {"country": "FR"}),
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Setup:
    server: LiveServer
    keys: Keys
    staging_sdk: dict[str, str]


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    database_url = f"sqlite:///{Path(tmp_path_factory.mktemp('ofrep')) / 'rheostat.db'}"
    keys = prepare_database(database_url)
    rheostat("env", "create", "staging", database_url=database_url)
    staging = json.loads(
        rheostat(
            "keys", "create", "web", "--scope", "sdk", "--env", "staging", "--json",
            database_url=database_url,
        )
    )  # fmt: skip
    with start_server(database_url) as server:
        for key, definition in FLAGS.items():
            created = httpx.post(
                f"{server.url}/api/v1/flags",
                params={"environment": "production"},
                json={"key": key, "definition": definition},
                headers=keys.admin,
            )
            assert created.status_code == 201, created.text
        yield Setup(
            server=server,
            keys=keys,
            staging_sdk={"Authorization": f"Bearer {staging['token']}"},
        )


_domains: list[str] = []


def _openfeature_client(setup: Setup, headers: dict[str, str], name: str) -> OpenFeatureClient:
    """An SDK client whose domain is bound to an OFREP provider sending ``headers``."""
    domain = f"rheostat-ofrep-{name}"
    provider = OFREPProvider(setup.server.url, headers_factory=lambda: dict(headers), timeout=10)
    openfeature_api.set_provider(provider, domain=domain)
    _domains.append(domain)
    return openfeature_api.get_client(domain)


@pytest.fixture(autouse=True, scope="module")
def _unbind_providers() -> Iterator[None]:
    yield
    for domain in _domains:
        openfeature_api.set_provider(NoOpProvider(), domain=domain)


@pytest.fixture(scope="module")
def production(setup: Setup) -> OpenFeatureClient:
    return _openfeature_client(setup, setup.keys.sdk, "production")


@pytest.fixture(scope="module")
def local(setup: Setup) -> FlagSet:
    document = httpx.get(f"{setup.server.url}/api/v1/client/flags", headers=setup.keys.sdk)
    return FlagSet.from_dict(document.json())


def _engine_context(context: EvaluationContext) -> Context:
    return Context(key=context.targeting_key or "", attributes=dict(context.attributes))


def test_every_type_evaluates_through_the_openfeature_sdk_as_the_engine_does(
    production: OpenFeatureClient, local: FlagSet
) -> None:
    resolvers = {
        "checkout": (production.get_boolean_details, False),
        "banner": (production.get_string_details, "none"),
        "limit": (production.get_integer_details, 0),
        "ratio": (production.get_float_details, 0.0),
        "theme": (production.get_object_details, {}),
    }
    for context in USERS:
        for key, (resolve, default) in resolvers.items():
            # When the SDK's client evaluates the flag through the OFREP provider
            details = resolve(key, default, context)  # type: ignore[operator]

            # Then it gets the engine's value, variant and reason, and the flag's version
            expected = local.evaluate(key, _engine_context(context))
            assert details.error_code is None, (key, details.error_message)
            assert details.value == expected.value
            assert details.variant == expected.variant
            assert details.reason == Reason(expected.reason.value)
            assert details.flag_metadata["flagVersion"] == expected.version


def test_an_unknown_flag_serves_the_default_with_flag_not_found(
    production: OpenFeatureClient,
) -> None:
    details = production.get_boolean_details("nope", True, USERS[0])
    assert details.value is True
    assert details.reason == Reason.ERROR
    assert details.error_code == ErrorCode.FLAG_NOT_FOUND


def test_a_type_mismatch_serves_the_default(production: OpenFeatureClient) -> None:
    # the server sends no type (OFREP ADR 0003): the provider compares the JSON value's
    as_bool = production.get_boolean_details("banner", False, USERS[0])
    as_text = production.get_string_details("checkout", "fallback", USERS[1])
    assert (as_bool.value, as_bool.error_code) == (False, ErrorCode.TYPE_MISMATCH)
    assert (as_text.value, as_text.error_code) == ("fallback", ErrorCode.TYPE_MISMATCH)


def test_a_missing_targeting_key_matters_only_where_the_flag_buckets_by_it(
    production: OpenFeatureClient,
) -> None:
    anonymous = EvaluationContext(None, {"plan": "free"})
    split = production.get_boolean_details("checkout", False, anonymous)
    empty = production.get_boolean_details("checkout", False, EvaluationContext(None, {}))
    static = production.get_string_details("banner", "none")  # no context at all: body {}
    assert (split.value, split.error_code) == (False, ErrorCode.TARGETING_KEY_MISSING)
    assert empty.error_code == ErrorCode.TARGETING_KEY_MISSING
    assert (static.value, static.reason, static.error_code) == ("blue", Reason.STATIC, None)


def test_a_wrong_key_serves_the_default_with_an_error(setup: Setup) -> None:
    client = _openfeature_client(setup, {"Authorization": "Bearer rh_sdk_wrong"}, "wrong")
    details = client.get_string_details("banner", "none", USERS[0])
    assert (details.value, details.reason) == ("none", Reason.ERROR)
    assert details.error_code == ErrorCode.GENERAL
    assert details.error_message == "unauthorized"


def test_a_key_of_another_environment_sees_only_its_own_flags(setup: Setup) -> None:
    # Given the staging key (staging has no flags)
    client = _openfeature_client(setup, setup.staging_sdk, "staging")

    # When it evaluates a production flag, and asks for production by name
    details = client.get_string_details("banner", "none", USERS[0])
    forced = httpx.post(
        f"{setup.server.url}/ofrep/v1/evaluate/flags/banner",
        params={"environment": "production"},
        json={"context": {"targetingKey": "user-1"}},
        headers=setup.staging_sdk,
    )

    # Then the flag is not found in its environment, and production is forbidden to it
    assert details.error_code == ErrorCode.FLAG_NOT_FOUND
    assert forced.status_code == 403


def test_a_kill_reaches_the_next_evaluation(setup: Setup, production: OpenFeatureClient) -> None:
    # Given a pro user who gets the dark theme
    before = production.get_object_details("theme", {}, USERS[1])

    # When the flag is killed through the admin API
    killed = httpx.post(
        f"{setup.server.url}/api/v1/flags/theme/kill",
        params={"environment": "production"},
        json={"reason": "test"},
        headers=setup.keys.admin,
    )
    after = production.get_object_details("theme", {}, USERS[1])

    # Then the next evaluation serves the default variant, DISABLED
    assert killed.status_code == 200, killed.text
    assert (before.value, before.reason) == ({"bg": "#000"}, Reason.TARGETING_MATCH)
    assert (after.value, after.variant, after.reason) == ({"bg": "#fff"}, "light", Reason.DISABLED)


class BulkClient:
    """A static-context OFREP client as the spec describes one: bulk-evaluate, cache, poll
    with the ETag, and keep the cache on 304."""

    def __init__(self, url: str, headers: dict[str, str], context: dict[str, Any]) -> None:
        self._http = httpx.Client(base_url=url, headers=headers, timeout=10.0)
        self._context = context
        self.etag: str | None = None
        self.flags: dict[str, dict[str, Any]] = {}
        self.statuses: list[int] = []

    def poll(self) -> None:
        headers = {"If-None-Match": self.etag} if self.etag else {}
        response = self._http.post(
            "/ofrep/v1/evaluate/flags", json={"context": self._context}, headers=headers
        )
        self.statuses.append(response.status_code)
        if response.status_code == 304:
            return
        response.raise_for_status()
        self.etag = response.headers["ETag"]
        self.flags = {flag["key"]: flag for flag in response.json()["flags"]}

    def close(self) -> None:
        self._http.close()


def test_a_bulk_client_polls_with_its_etag_and_gets_changes(setup: Setup) -> None:
    # Given a static-context client that has loaded every flag
    client = BulkClient(setup.server.url, setup.keys.sdk, {"targetingKey": "user-42"})
    try:
        client.poll()
        first_etag = client.etag

        # When it polls again with nothing changed, then after a change
        client.poll()
        changed = httpx.post(
            f"{setup.server.url}/api/v1/flags/limit/targets",
            params={"environment": "production"},
            json={"users": ["user-42"], "variant": "high"},
            headers=setup.keys.admin,
        )
        client.poll()
    finally:
        client.close()

    # Then the unchanged poll was a 304 that kept the cache, and the change came with a new ETag
    assert changed.status_code == 200, changed.text
    assert client.statuses == [200, 304, 200]
    assert client.etag != first_etag
    assert client.flags["limit"]["value"] == 100
    assert client.flags["limit"]["reason"] == "TARGETING_MATCH"
    assert set(client.flags) == set(FLAGS)
