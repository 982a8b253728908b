"""Pure edits of native flag definitions: the targeted operations, and reading state back.

Definitions here are canonical (as ``FlagSet.to_dict`` writes them): ``type``, ``variants``,
``default``, ``targets`` and ``rules`` are always present. Every function returns a new
mapping and leaves its argument alone.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from rheostat.errors import ValidationError
from rheostat.flags.bucketing import BUCKETS

__all__ = [
    "bool_variants",
    "catch_all_index",
    "dependent_flags",
    "on_share",
    "on_variant",
    "rollout_percent",
    "segment_users",
    "segments_tested",
    "targeted_counts",
    "with_enabled",
    "with_rollout",
    "with_targets_added",
    "with_targets_removed",
]

Definition = Mapping[str, Any]
_THOUSANDTHS = 1000


def with_enabled(definition: Definition, enabled: bool) -> dict[str, Any]:
    """Return ``definition`` with ``enabled`` set (``False`` engages the kill switch)."""
    return {**copy.deepcopy(dict(definition)), "enabled": enabled}


def bool_variants(definition: Definition, key: str) -> tuple[str, str]:
    """Return the names of a bool flag's on (``true``) and off (``false``) variants.

    Raises:
        ValidationError: the flag is not a bool flag with both a true and a false variant.
    """
    variants: Mapping[str, Any] = definition.get("variants", {})
    on = _first_named(variants, True, preferred="on")
    off = _first_named(variants, False, preferred="off")
    if definition.get("type", "bool") != "bool" or on is None or off is None:
        raise ValidationError(
            f"flag {key!r} is not an on/off flag (it needs a true and a false variant);"
            " edit its rules instead",
            details={"flag": key, "variants": sorted(variants)},
        )
    return on, off


def on_variant(definition: Definition) -> str | None:
    """Return the bool flag's ``true`` variant, or ``None`` for other flags."""
    if definition.get("type", "bool") != "bool":
        return None
    return _first_named(definition.get("variants", {}), True, preferred="on")


def _first_named(variants: Mapping[str, Any], value: bool, *, preferred: str) -> str | None:
    if variants.get(preferred) is value:
        return preferred
    return next((name for name, served in variants.items() if served is value), None)


def catch_all_index(definition: Definition) -> int | None:
    """Return the index of the last rule without conditions, or ``None``."""
    rules = list(definition.get("rules", []))
    for index in range(len(rules) - 1, -1, -1):
        if not rules[index].get("when"):
            return index
    return None


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


def with_rollout(definition: Definition, percent: float, key: str) -> dict[str, Any]:
    """Return ``definition`` whose catch-all rule splits on/off at ``percent`` / rest.

    The on variant comes first in the split, so widening it keeps everyone who has it; the
    bucketing attribute and rule name of an existing catch-all are kept.

    Raises:
        ValidationError: ``percent`` is not a number in [0, 100], or not an on/off flag.
    """
    on, off = bool_variants(definition, key)
    on_share = _thousandths(percent, key)
    edited = copy.deepcopy(dict(definition))
    rules = list(edited.get("rules", []))
    index = catch_all_index(edited)
    existing = rules[index] if index is not None else {}
    serve = existing.get("serve")
    rule: dict[str, Any] = {
        "name": existing.get("name") or "rollout",
        "when": [],
        "serve": {
            "split": {on: on_share / _THOUSANDTHS, off: (BUCKETS - on_share) / _THOUSANDTHS},
            "by": serve.get("by", "key") if isinstance(serve, Mapping) else "key",
        },
    }
    if index is None:
        rules.append(rule)
    else:
        rules[index] = rule
    edited["rules"] = rules
    return edited


def _thousandths(percent: float, key: str) -> int:
    if (
        isinstance(percent, bool)
        or not isinstance(percent, int | float)
        or not 0 <= percent <= 100  # percent bounds
    ):
        raise ValidationError(
            f"rollout percentage for flag {key!r} must be a number from 0 to 100, got {percent!r}",
            details={"flag": key, "field": "percent", "value": repr(percent)},
        )
    return round(percent * _THOUSANDTHS)


def with_targets_added(
    definition: Definition, variant: str, *, users: Iterable[str], groups: Iterable[str]
) -> dict[str, Any]:
    """Return ``definition`` with ``users`` and ``groups`` added to ``variant``'s target."""
    edited = copy.deepcopy(dict(definition))
    targets = list(edited.get("targets", []))
    target = next((t for t in targets if t.get("variant") == variant), None)
    if target is None:
        target = {"variant": variant, "keys": [], "groups": []}
        targets.append(target)
    target["keys"] = _merged(target.get("keys", []), users)
    target["groups"] = _merged(target.get("groups", []), groups)
    edited["targets"] = targets
    return edited


def with_targets_removed(
    definition: Definition, *, users: Iterable[str], groups: Iterable[str]
) -> dict[str, Any]:
    """Return ``definition`` without ``users`` and ``groups`` in any target (empty ones go)."""
    gone_users, gone_groups = set(users), set(groups)
    edited = copy.deepcopy(dict(definition))
    targets = []
    for target in edited.get("targets", []):
        keys = [k for k in target.get("keys", []) if k not in gone_users]
        kept_groups = [g for g in target.get("groups", []) if g not in gone_groups]
        if keys or kept_groups:
            targets.append({**target, "keys": keys, "groups": kept_groups})
    edited["targets"] = targets
    return edited


def _merged(existing: Iterable[str], added: Iterable[str]) -> list[str]:
    """``existing`` then the new names of ``added``, in order, each once: linear time (a set
    of what is listed), so adding tens of thousands of users does not hold the lock for long."""
    merged = list(existing)
    listed = set(merged)
    for item in added:
        if item not in listed:
            listed.add(item)
            merged.append(item)
    return merged


def targeted_counts(definition: Definition) -> tuple[int, int]:
    """Return how many distinct user keys and groups the flag's targets list."""
    users: set[str] = set()
    groups: set[str] = set()
    for target in definition.get("targets", []):
        users.update(target.get("keys", []))
        groups.update(target.get("groups", []))
    return len(users), len(groups)


def dependent_flags(flags: Mapping[str, Definition], key: str) -> list[str]:
    """Return the flags (sorted) that name ``key`` as a prerequisite."""
    return sorted(
        name
        for name, definition in flags.items()
        if name != key and any(p.get("flag") == key for p in definition.get("prerequisites", []))
    )


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
