"""rheostat itself: one ``FlagSet`` holding the four flags, evaluated with prebuilt ``Context``s."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import rheostat
from peers.contract import TARGET_COUNTRIES, Case, Engine, Sweep, User

DOCUMENT: dict[str, Any] = {
    "version": 1,
    "flags": {
        "s1": {"variants": {"on": True, "off": False}, "default": "on"},
        "s2": {
            "variants": {"on": True, "off": False},
            "default": "off",
            "rules": [{"serve": {"split": {"on": 25, "off": 75}}}],
        },
        "s3": {
            "variants": {"on": True, "off": False},
            "default": "off",
            "rules": [
                {
                    "when": [
                        {"attribute": "country", "op": "in", "values": list(TARGET_COUNTRIES)},
                        {"attribute": "plan", "op": "eq", "values": ["enterprise"]},
                    ],
                    "serve": "on",
                },
                {"serve": {"split": {"on": 10, "off": 90}}},
            ],
        },
        "s4": {
            "variants": {"a": "A", "b": "B"},
            "default": "a",
            "rules": [{"serve": {"split": {"a": 50, "b": 50}}}],
        },
    },
}


def build(users: Sequence[User]) -> list[Engine]:
    """Compile the document once and wrap each user in a ``rheostat.Context``."""
    flags = rheostat.FlagSet.from_dict(DOCUMENT)
    contexts = [
        rheostat.Context(key=u.key, attributes={"country": u.country, "plan": u.plan})
        for u in users
    ]
    cases = {
        "S1": Case(contexts=contexts, sweep=_enabled(flags, "s1"), api='is_enabled("s1", ctx)'),
        "S2": Case(contexts=contexts, sweep=_enabled(flags, "s2"), api='is_enabled("s2", ctx)'),
        "S3": Case(contexts=contexts, sweep=_enabled(flags, "s3"), api='is_enabled("s3", ctx)'),
        "S4": Case(
            contexts=contexts,
            sweep=_evaluated_value(flags),
            api='evaluate("s4", ctx, default="A").value',
        ),
        "S4/variant": Case(
            contexts=contexts, sweep=_variant_name(flags), api='variant("s4", ctx).name'
        ),
        "S4/is_enabled": Case(
            contexts=contexts, sweep=_enabled(flags, "s4"), api='is_enabled("s4", ctx)'
        ),
    }
    return [
        Engine(name="rheostat", package="rheostat", mode="in-process", cases=cases, is_ours=True)
    ]


def _enabled(flags: rheostat.FlagSet, key: str) -> Sweep:
    is_enabled = flags.is_enabled

    def sweep(contexts: Sequence[Any]) -> int:
        served = 0
        for ctx in contexts:
            served += is_enabled(key, ctx)
        return served

    return sweep


def _evaluated_value(flags: rheostat.FlagSet) -> Sweep:
    evaluate = flags.evaluate

    def sweep(contexts: Sequence[Any]) -> int:
        served = 0
        for ctx in contexts:
            served += evaluate("s4", ctx, default="A").value == "B"
        return served

    return sweep


def _variant_name(flags: rheostat.FlagSet) -> Sweep:
    variant = flags.variant

    def sweep(contexts: Sequence[Any]) -> int:
        served = 0
        for ctx in contexts:
            served += variant("s4", ctx).name == "b"
        return served

    return sweep
