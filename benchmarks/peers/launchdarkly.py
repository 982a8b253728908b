"""LaunchDarkly's server-side SDK (``launchdarkly-server-sdk``), offline from a flag file.

The client reads full flag definitions (rules, clauses, percentage rollouts) through the SDK's
file data source (``Files.new_data_source``), with events and diagnostics off, so it never dials
out. A rollout is a ``fallthrough`` rollout (weights in thousandths of a percent); S3 adds a rule
with two clauses before it; the A/B test is a two-variation string flag split 50/50.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ldclient import Context, LDClient
from ldclient.config import Config
from ldclient.integrations import Files

from peers.contract import TARGET_COUNTRIES, Case, Engine, Sweep, User


def _rollout(on_percent: int) -> dict[str, Any]:
    on = on_percent * 1000
    return {
        "rollout": {
            "variations": [{"variation": 0, "weight": on}, {"variation": 1, "weight": 100_000 - on}]
        }
    }


def _flag(
    key: str, variations: list[Any], fallthrough: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    return {
        "key": key,
        "version": 1,
        "on": True,
        "salt": key,
        "variations": variations,
        "offVariation": 1,
        "fallthrough": fallthrough,
        "targets": [],
        "prerequisites": [],
        "rules": [],
        **extra,
    }


def _clause(attribute: str, *values: str) -> dict[str, Any]:
    return {"attribute": attribute, "op": "in", "values": list(values), "negate": False}


TARGET_RULE = {
    "id": "s3-target",
    "variation": 0,
    "clauses": [_clause("country", *TARGET_COUNTRIES), _clause("plan", "enterprise")],
}

FLAGS: dict[str, Any] = {
    "flags": {
        "s1": _flag("s1", [True, False], {"variation": 0}),
        "s2": _flag("s2", [True, False], _rollout(25)),
        "s3": _flag("s3", [True, False], _rollout(10), rules=[TARGET_RULE]),
        "s4": _flag("s4", ["A", "B"], _rollout(50), offVariation=0),
    }
}


def build(users: Sequence[User]) -> list[Engine]:
    """Write the flag file, start the client on it, and build one ``Context`` per user."""
    path = Path(tempfile.mkdtemp(prefix="launchdarkly-bench-")) / "flags.json"
    path.write_text(json.dumps(FLAGS), encoding="utf-8")
    config = Config(
        sdk_key="offline-bench",
        update_processor_class=Files.new_data_source(paths=[str(path)]),
        send_events=False,
        diagnostic_opt_out=True,
    )
    client = LDClient(config=config, start_wait=5)
    contexts = [
        Context.builder(u.key).set("country", u.country).set("plan", u.plan).build() for u in users
    ]
    boolean = 'client.variation("{key}", ctx, False)'
    cases = {
        s: Case(contexts=contexts, sweep=_variation(client, key), api=boolean.format(key=key))
        for s, key in (("S1", "s1"), ("S2", "s2"), ("S3", "s3"))
    }
    cases["S4"] = Case(
        contexts=contexts, sweep=_string(client), api='client.variation("s4", ctx, "A")'
    )
    engine = Engine(
        name="launchdarkly",
        package="launchdarkly-server-sdk",
        mode="offline (file data source, events off)",
        cases=cases,
        close=client.close,
    )
    return [engine]


def _variation(client: LDClient, key: str) -> Sweep:
    variation = client.variation

    def sweep(contexts: Sequence[Any]) -> int:
        served = 0
        for ctx in contexts:
            served += variation(key, ctx, False)
        return served

    return sweep


def _string(client: LDClient) -> Sweep:
    variation = client.variation

    def sweep(contexts: Sequence[Any]) -> int:
        served = 0
        for ctx in contexts:
            served += variation("s4", ctx, "A") == "B"
        return served

    return sweep
