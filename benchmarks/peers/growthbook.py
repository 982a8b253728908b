"""GrowthBook's Python SDK (``growthbook``), fed its features JSON from memory (no client key, so
no network).

A rollout is a ``force`` rule with ``coverage``; S3 adds a targeting ``condition`` before it; the
A/B test is an experiment rule with two equal variations. The SDK's idiom is a ``GrowthBook``
instance per user carrying that user's attributes: one is built per user up front.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from growthbook import GrowthBook

from peers.contract import TARGET_COUNTRIES, Case, Engine, Sweep, User

FEATURES: dict[str, Any] = {
    "s1": {"defaultValue": True},
    "s2": {"defaultValue": False, "rules": [{"force": True, "coverage": 0.25}]},
    "s3": {
        "defaultValue": False,
        "rules": [
            {
                "condition": {"country": {"$in": list(TARGET_COUNTRIES)}, "plan": "enterprise"},
                "force": True,
            },
            {"force": True, "coverage": 0.10},
        ],
    },
    "s4": {
        "defaultValue": "A",
        "rules": [{"key": "s4", "variations": ["A", "B"], "weights": [0.5, 0.5]}],
    },
}


def build(users: Sequence[User]) -> list[Engine]:
    """Build one ``GrowthBook`` per user with all four features and the user's attributes."""
    contexts = [
        GrowthBook(
            attributes={"id": u.key, "country": u.country, "plan": u.plan}, features=FEATURES
        )
        for u in users
    ]
    cases = {
        scenario: Case(contexts=contexts, sweep=_on(key), api=f'gb.is_on("{key}")')
        for scenario, key in (("S1", "s1"), ("S2", "s2"), ("S3", "s3"))
    }
    cases["S4"] = Case(contexts=contexts, sweep=_value("s4"), api='gb.get_feature_value("s4", "A")')
    return [Engine(name="growthbook", package="growthbook", mode="in-memory", cases=cases)]


def _on(key: str) -> Sweep:
    def sweep(contexts: Sequence[Any]) -> int:
        served = 0
        for gb in contexts:
            served += gb.is_on(key)
        return served

    return sweep


def _value(key: str) -> Sweep:
    def sweep(contexts: Sequence[Any]) -> int:
        served = 0
        for gb in contexts:
            served += gb.get_feature_value(key, "A") == "B"
        return served

    return sweep
