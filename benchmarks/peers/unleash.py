"""Unleash's Python SDK (``UnleashClient``) and the engine under it (``yggdrasil-engine``).

The client is bootstrapped from an in-memory features document and started in its offline mode
(``initialize_client(fetch_toggles=False)``, no registration, no metrics), so it never dials out.
The engine row calls ``UnleashEngine`` directly with the same document, to show what the client
adds around it (context enrichment, impression-event checks).

A rollout is a ``flexibleRollout`` strategy; S3 puts a constrained 100% strategy before a 10%
one; the A/B test is a feature with two 50/50 variants.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from typing import Any

from UnleashClient import UnleashClient
from UnleashClient.cache import FileCache
from yggdrasil_engine.engine import UnleashEngine

from peers.contract import TARGET_COUNTRIES, Case, Engine, Sweep, User


def _rollout(flag: str, percent: int, *constraints: Any) -> dict[str, Any]:
    parameters = {"rollout": str(percent), "stickiness": "default", "groupId": flag}
    return {"name": "flexibleRollout", "parameters": parameters, "constraints": list(constraints)}


def _variant(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "weight": 500,
        "weightType": "variable",
        "stickiness": "default",
        "payload": {"type": "string", "value": name},
    }


def _in(context_name: str, *values: str) -> dict[str, Any]:
    return {"contextName": context_name, "operator": "IN", "values": list(values)}


FEATURES: dict[str, Any] = {
    "version": 1,
    "features": [
        {"name": "s1", "enabled": True, "strategies": [{"name": "default", "parameters": {}}]},
        {"name": "s2", "enabled": True, "strategies": [_rollout("s2", 25)]},
        {
            "name": "s3",
            "enabled": True,
            "strategies": [
                _rollout("s3", 100, _in("country", *TARGET_COUNTRIES), _in("plan", "enterprise")),
                _rollout("s3", 10),
            ],
        },
        {
            "name": "s4",
            "enabled": True,
            "strategies": [_rollout("s4", 100)],
            "variants": [_variant("A"), _variant("B")],
        },
    ],
}


def build(users: Sequence[User]) -> list[Engine]:
    """Start an offline client and a bare engine on the same document; one context per user."""
    contexts = [
        {"userId": u.key, "properties": {"country": u.country, "plan": u.plan}} for u in users
    ]
    return [_client_engine(contexts), _bare_engine(contexts)]


def _client_engine(contexts: list[dict[str, Any]]) -> Engine:
    cache = FileCache("rheostat-bench", directory=tempfile.mkdtemp(prefix="unleash-bench-"))
    cache.bootstrap_from_dict(FEATURES)
    client = UnleashClient(
        url="http://127.0.0.1:9/never-called",
        app_name="rheostat-bench",
        disable_metrics=True,
        disable_registration=True,
        refresh_interval=3600,
        cache=cache,
    )
    client.initialize_client(fetch_toggles=False)
    boolean = 'client.is_enabled("{key}", ctx)'
    cases = {
        s: Case(
            contexts=contexts, sweep=_enabled(client.is_enabled, key), api=boolean.format(key=key)
        )
        for s, key in (("S1", "s1"), ("S2", "s2"), ("S3", "s3"))
    }
    cases["S4"] = Case(
        contexts=contexts,
        sweep=_client_variant(client),
        api='client.get_variant("s4", ctx)["name"]',
    )
    return Engine(
        name="unleash",
        package="UnleashClient",
        mode="offline (bootstrapped, fetch_toggles=False)",
        cases=cases,
        close=client.destroy,
    )


def _bare_engine(contexts: list[dict[str, Any]]) -> Engine:
    engine = UnleashEngine()
    engine.take_state(json.dumps(FEATURES))
    boolean = 'engine.is_enabled("{key}", ctx).is_enabled'
    cases = {
        s: Case(contexts=contexts, sweep=_engine_enabled(engine, key), api=boolean.format(key=key))
        for s, key in (("S1", "s1"), ("S2", "s2"), ("S3", "s3"))
    }
    cases["S4"] = Case(
        contexts=contexts,
        sweep=_engine_variant(engine),
        api='engine.get_variant("s4", ctx).variant.name',
    )
    return Engine(name="unleash-engine", package="yggdrasil-engine", mode="in-memory", cases=cases)


def _enabled(is_enabled: Any, key: str) -> Sweep:
    def sweep(contexts: Sequence[Any]) -> int:
        served = 0
        for ctx in contexts:
            served += is_enabled(key, ctx)
        return served

    return sweep


def _client_variant(client: UnleashClient) -> Sweep:
    get_variant = client.get_variant

    def sweep(contexts: Sequence[Any]) -> int:
        served = 0
        for ctx in contexts:
            served += get_variant("s4", ctx)["name"] == "B"
        return served

    return sweep


def _engine_enabled(engine: UnleashEngine, key: str) -> Sweep:
    is_enabled = engine.is_enabled

    def sweep(contexts: Sequence[Any]) -> int:
        served = 0
        for ctx in contexts:
            served += is_enabled(key, ctx).is_enabled
        return served

    return sweep


def _engine_variant(engine: UnleashEngine) -> Sweep:
    get_variant = engine.get_variant

    def sweep(contexts: Sequence[Any]) -> int:
        served = 0
        for ctx in contexts:
            served += get_variant("s4", ctx).variant.name == "B"
        return served

    return sweep
