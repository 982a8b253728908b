"""Reading a native flag definition back: its state, the share it serves, what it uses.

The one place that answers "what percentage does this flag serve" (``rollout_percent`` for
the catch-all split, ``on_share`` for what the catch-all path serves, default included) and
"what state is it in" (``flag_state``, the seeds' words): the API, the CLI, the facades and
the controller all read flags through these, so they never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

__all__ = [
    "FlagState",
    "catch_all_index",
    "dependent_flags",
    "first_variant_serving",
    "flag_state",
    "on_share",
    "on_variant",
    "rollout_percent",
    "segment_users",
    "segments_tested",
    "targeted_counts",
]

Definition = Mapping[str, Any]


class FlagState(StrEnum):
    """A flag's state in the seeds' words (``status`` in ``config/feature_flags.json``)."""

    ENABLED = "enabled"
    """On for everyone its rules reach (a bool flag at 100 %, or any non-split flag that is on)."""
    DISABLED = "disabled"
    """Kill switch engaged: everyone gets the default variant."""
    PERCENTAGE = "percentage"
    """A bool flag on for a share strictly between 0 and 100 %."""
    TARGETED = "targeted"
    """A bool flag at 0 % that is on only for listed users or groups."""
    OFF = "off"
    """Enabled but serving "on" to nobody (0 %, no targets)."""


def flag_state(definition: Mapping[str, Any]) -> FlagState:
    """The seeds' status of a flag definition (see ``FlagState``)."""
    if not definition.get("enabled", True):
        return FlagState.DISABLED
    on = on_variant(definition)
    percent = on_share(definition)
    if on is None or percent is None or percent >= 100:  # percent
        return FlagState.ENABLED
    if percent > 0:
        return FlagState.PERCENTAGE
    targets = definition.get("targets", [])
    if any(t.get("variant") == on and (t.get("keys") or t.get("groups")) for t in targets):
        return FlagState.TARGETED
    return FlagState.OFF


def catch_all_index(definition: Definition) -> int | None:
    """Return the index of the last rule without conditions, or ``None``."""
    rules = list(definition.get("rules", []))
    for index in range(len(rules) - 1, -1, -1):
        if not rules[index].get("when"):
            return index
    return None


def on_variant(definition: Definition) -> str | None:
    """Return the bool flag's ``true`` variant, or ``None`` for other flags."""
    if definition.get("type", "bool") != "bool":
        return None
    return first_variant_serving(definition.get("variants", {}), True, preferred="on")


def first_variant_serving(
    variants: Mapping[str, Any], value: bool, *, preferred: str
) -> str | None:
    """The variant serving ``value`` (``preferred`` if it does), or ``None``."""
    if variants.get(preferred) is value:
        return preferred
    return next((name for name, served in variants.items() if served is value), None)


def on_share(definition: Definition) -> float | None:
    """The share (percent) of contexts the catch-all serves a bool flag's on variant.

    ``None`` when the flag is not an on/off flag. Without a catch-all rule, the default
    variant decides (100 if it is the on variant, else 0).
    """
    on = on_variant(definition)
    if on is None:
        return None
    index = catch_all_index(definition)
    serve = definition.get("default") if index is None else definition["rules"][index]["serve"]
    if isinstance(serve, Mapping):
        return float(serve.get("split", {}).get(on, 0.0))
    return 100.0 if serve == on else 0.0


def rollout_percent(definition: Definition) -> float | None:
    """The on variant's weight in a bool flag's catch-all split; ``None`` without such a split."""
    on = on_variant(definition)
    index = catch_all_index(definition)
    if on is None or index is None:
        return None
    serve = definition["rules"][index]["serve"]
    if not isinstance(serve, Mapping):
        return None
    return float(serve.get("split", {}).get(on, 0.0))


def targeted_counts(definition: Definition) -> tuple[int, int]:
    """Return how many distinct user keys and groups the flag's targets list."""
    users: set[str] = set()
    groups: set[str] = set()
    for target in definition.get("targets", []):
        users.update(target.get("keys", []))
        groups.update(target.get("groups", []))
    return len(users), len(groups)


def segments_tested(definition: Definition) -> list[str]:
    """Return the segments (sorted, each once) the flag's rules test with ``in_segment``."""
    return sorted(
        {
            segment
            for rule in definition.get("rules", [])
            for condition in rule.get("when", [])
            if condition.get("op") == "in_segment"
            for segment in condition.get("values", [])
        }
    )


def dependent_flags(flags: Mapping[str, Definition], key: str) -> list[str]:
    """Return the flags (sorted) that name ``key`` as a prerequisite."""
    return sorted(
        name
        for name, definition in flags.items()
        if name != key and any(p.get("flag") == key for p in definition.get("prerequisites", []))
    )


def segment_users(flags: Mapping[str, Definition], segment: str) -> list[str]:
    """Return the flags (sorted) whose rules test ``in_segment`` with ``segment``."""
    return sorted(
        name
        for name, definition in flags.items()
        if any(
            condition.get("op") == "in_segment" and segment in condition.get("values", [])
            for rule in definition.get("rules", [])
            for condition in rule.get("when", [])
        )
    )
