"""flagd's in-process evaluator (``openfeature-flagd-core``): the engine the flagd provider's
in-process resolver runs, fed a flagd flag-definition document from memory, no sync stream.

Targeting is flagd's JsonLogic with its ``fractional`` operator for splits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from openfeature.contrib.tools.flagd.core import FlagdCore
from openfeature.evaluation_context import EvaluationContext

from peers.contract import TARGET_COUNTRIES, Case, Engine, Sweep, User

_BOOL = {"on": True, "off": False}

DOCUMENT: dict[str, Any] = {
    "flags": {
        "s1": {"state": "ENABLED", "variants": _BOOL, "defaultVariant": "on"},
        "s2": {
            "state": "ENABLED",
            "variants": _BOOL,
            "defaultVariant": "off",
            "targeting": {"fractional": [["on", 25], ["off", 75]]},
        },
        "s3": {
            "state": "ENABLED",
            "variants": _BOOL,
            "defaultVariant": "off",
            "targeting": {
                "if": [
                    {
                        "and": [
                            {"in": [{"var": "country"}, list(TARGET_COUNTRIES)]},
                            {"==": [{"var": "plan"}, "enterprise"]},
                        ]
                    },
                    "on",
                    {"fractional": [["on", 10], ["off", 90]]},
                ]
            },
        },
        "s4": {
            "state": "ENABLED",
            "variants": {"a": "A", "b": "B"},
            "defaultVariant": "a",
            "targeting": {"fractional": [["a", 50], ["b", 50]]},
        },
    }
}


def build(users: Sequence[User]) -> list[Engine]:
    """Load the document into a ``FlagdCore`` and build one ``EvaluationContext`` per user."""
    core = FlagdCore()
    core.set_flags(DOCUMENT)
    contexts = [
        EvaluationContext(targeting_key=u.key, attributes={"country": u.country, "plan": u.plan})
        for u in users
    ]
    boolean = 'resolve_boolean_value("{key}", False, ctx).value'
    cases = {
        scenario: Case(contexts=contexts, sweep=_boolean(core, key), api=boolean.format(key=key))
        for scenario, key in (("S1", "s1"), ("S2", "s2"), ("S3", "s3"))
    }
    cases["S4"] = Case(
        contexts=contexts, sweep=_string(core), api='resolve_string_value("s4", "A", ctx).value'
    )
    return [Engine(name="flagd", package="openfeature-flagd-core", mode="in-memory", cases=cases)]


def _boolean(core: FlagdCore, key: str) -> Sweep:
    resolve = core.resolve_boolean_value

    def sweep(contexts: Sequence[Any]) -> int:
        served = 0
        for ctx in contexts:
            served += resolve(key, False, ctx).value
        return served

    return sweep


def _string(core: FlagdCore) -> Sweep:
    resolve = core.resolve_string_value

    def sweep(contexts: Sequence[Any]) -> int:
        served = 0
        for ctx in contexts:
            served += resolve("s4", "A", ctx).value == "B"
        return served

    return sweep
