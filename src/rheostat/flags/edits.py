"""Pure edits of native flag definitions: the targeted operations (reading: ``summary``).

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
from rheostat.flags.summary import catch_all_index, first_variant_serving

__all__ = [
    "bool_variants",
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
    on = first_variant_serving(variants, True, preferred="on")
    off = first_variant_serving(variants, False, preferred="off")
    if definition.get("type", "bool") != "bool" or on is None or off is None:
        raise ValidationError(
            f"flag {key!r} is not an on/off flag (it needs a true and a false variant);"
            " edit its rules instead",
            details={"flag": key, "variants": sorted(variants)},
        )
    return on, off


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
