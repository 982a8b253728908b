"""Flagsmith's flag engine (``flagsmith-flag-engine``), the evaluator its SDKs run in local mode.

Definitions follow Flagsmith's own shapes: a rollout is a segment with a ``PERCENTAGE_SPLIT``
condition overriding the feature on, and the A/B test is a multivariate feature (control value
``A``, a 50% ``B`` variant). One evaluation context per user and scenario, each holding only that
scenario's feature and segments, as the SDK's local evaluation would map an environment to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flag_engine.engine import get_evaluation_result

from peers.contract import TARGET_COUNTRIES, Case, Engine, Sweep, User

ENVIRONMENT = {"key": "bench-env", "name": "bench"}


def _feature(key: str, *, enabled: bool, value: Any = None, **extra: Any) -> dict[str, Any]:
    return {"key": key, "name": key, "enabled": enabled, "value": value, **extra}


def _segment(key: str, feature: str, priority: int, *conditions: Any) -> dict[str, Any]:
    return {
        "key": key,
        "name": key,
        "rules": [{"type": "ALL", "conditions": list(conditions)}],
        "overrides": [_feature(feature, enabled=True, priority=priority)],
    }


def _rollout(percent: int) -> dict[str, Any]:
    return {"property": "", "operator": "PERCENTAGE_SPLIT", "value": str(percent)}


SCENARIOS: dict[str, dict[str, Any]] = {
    "s1": {"features": {"s1": _feature("s1", enabled=True)}},
    "s2": {
        "features": {"s2": _feature("s2", enabled=False)},
        "segments": {"s2-rollout": _segment("s2-rollout", "s2", 0, _rollout(25))},
    },
    "s3": {
        "features": {"s3": _feature("s3", enabled=False)},
        "segments": {
            "s3-target": _segment(
                "s3-target",
                "s3",
                0,
                {"property": "country", "operator": "IN", "value": ",".join(TARGET_COUNTRIES)},
                {"property": "plan", "operator": "EQUAL", "value": "enterprise"},
            ),
            "s3-rollout": _segment("s3-rollout", "s3", 1, _rollout(10)),
        },
    },
    "s4": {
        "features": {
            "s4": _feature(
                "s4",
                enabled=True,
                value="A",
                variants=[{"key": "b", "value": "B", "weight": 50, "priority": 0}],
            )
        }
    },
}


def build(users: Sequence[User]) -> list[Engine]:
    """Build each user's identity once and a context per scenario around it."""
    identities = [
        {
            "identifier": u.key,
            "key": f"{ENVIRONMENT['key']}_{u.key}",
            "traits": {"country": u.country, "plan": u.plan},
        }
        for u in users
    ]
    api = 'get_evaluation_result(ctx)["flags"]["{key}"]["{field}"]'
    cases = {}
    for scenario, key in (("S1", "s1"), ("S2", "s2"), ("S3", "s3"), ("S4", "s4")):
        contexts = [
            {"environment": ENVIRONMENT, **SCENARIOS[key], "identity": identity}
            for identity in identities
        ]
        field = "value" if key == "s4" else "enabled"
        sweep = _value(key) if key == "s4" else _enabled(key)
        cases[scenario] = Case(contexts=contexts, sweep=sweep, api=api.format(key=key, field=field))
    return [
        Engine(name="flagsmith", package="flagsmith-flag-engine", mode="in-memory", cases=cases)
    ]


def _enabled(key: str) -> Sweep:
    def sweep(contexts: Sequence[Any]) -> int:
        served = 0
        for ctx in contexts:
            served += get_evaluation_result(ctx)["flags"][key]["enabled"]
        return served

    return sweep


def _value(key: str) -> Sweep:
    def sweep(contexts: Sequence[Any]) -> int:
        served = 0
        for ctx in contexts:
            served += get_evaluation_result(ctx)["flags"][key]["value"] == "B"
        return served

    return sweep
