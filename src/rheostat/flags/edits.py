"""Pure edits of native flag definitions: the targeted operations (reading: ``summary``).

Definitions here are canonical (as ``FlagSet.to_dict`` writes them): ``type``, ``variants``,
``default``, ``targets`` and ``rules`` are always present. Every function returns a new
mapping and leaves its argument alone.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rheostat.errors import ValidationError
from rheostat.flags.bucketing import BUCKETS
from rheostat.flags.summary import catch_all_index, first_variant_serving, on_share

__all__ = [
    "HOLDBACK",
    "ROLLBACK_RULE",
    "bool_variants",
    "current_exposure",
    "with_enabled",
    "with_exposure",
    "with_rollback_targets",
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
    split = {on: on_share / _THOUSANDTHS, off: (BUCKETS - on_share) / _THOUSANDTHS}
    return _with_catch_all(copy.deepcopy(dict(definition)), split)


HOLDBACK = "holdback"
"""The variant of a flag's holdback: serves the off value, but names the group, so SDKs and
metrics can tell the measured control group from everyone else."""
_RING_RULE = "rollout:ring"


def with_exposure(
    definition: Definition,
    key: str,
    *,
    percent: float,
    holdback_percent: float = 0.0,
    segments: Sequence[str] = (),
    keep_other_audiences: bool = False,
) -> dict[str, Any]:
    """Return ``definition`` serving "on" to ``percent`` %, with a holdback of its own.

    The catch-all split is ``{on: percent, off: rest, holdback: holdback_percent}`` in that
    order: treatment takes the lowest buckets and grows upwards, the holdback the highest and
    grows downwards, so as a ramp widens nobody ever moves between treatment, holdback and the
    rest (only into treatment from the rest). With ``segments`` (a ring), the split applies to
    members of those segments (a rule before the catch-all) and everyone else is off.

    Alone (the default), this exposure replaces every other: earlier rings go, and a ring
    turns everyone else off. With ``keep_other_audiences`` (a release plan's later stages),
    only this audience's share changes: the rings of other segments stay, and a ring leaves
    everyone's split as it is. A ring that serves no more than everyone goes (its members
    keep everyone's share), and rings come highest share first, so a member of several gets
    the most any of them serves: no audience's exposure is lowered.

    Raises:
        ValidationError: not an on/off flag, a share outside [0, 100], or both over 100.
    """
    on, off = bool_variants(definition, key)
    treated = _thousandths(percent, key)
    held = _thousandths(holdback_percent, key)
    if treated + held > BUCKETS:
        raise ValidationError(
            f"flag {key!r}: {percent}% treatment and {holdback_percent}% holdback exceed 100%",
            details={"flag": key, "field": "holdback_percent"},
        )
    edited = copy.deepcopy(dict(definition))
    variants = dict(edited.get("variants", {}))
    if held or HOLDBACK in variants:
        variants.setdefault(HOLDBACK, variants[off])
    edited["variants"] = variants
    has_holdback = HOLDBACK in variants
    split = _exposure_split(on, off, treated, held, has_holdback=has_holdback)
    audience = frozenset(segments)
    edited["rules"] = [
        rule
        for rule in edited.get("rules", [])
        if rule.get("name") != _RING_RULE
        or (keep_other_audiences and _ring_audience(rule) != audience)
    ]
    if not segments:
        edited = _with_catch_all(edited, split)
    elif not keep_other_audiences or catch_all_index(edited) is None:
        nobody = _exposure_split(on, off, 0, 0, has_holdback=has_holdback)
        edited = _with_catch_all(edited, nobody)
    if segments:
        ring = {
            "name": _RING_RULE,
            "when": [{"attribute": "key", "op": "in_segment", "values": list(segments)}],
            "serve": {"split": split, "by": "key"},
        }
        catch_all = catch_all_index(edited)
        edited["rules"].insert(len(edited["rules"]) if catch_all is None else catch_all, ring)
    return _with_rings_above_everyone(edited, on) if keep_other_audiences else edited


def _ring_audience(rule: Mapping[str, Any]) -> frozenset[str]:
    return frozenset(str(v) for condition in rule.get("when", []) for v in condition["values"])


def _ring_share(rule: Mapping[str, Any], on: str) -> float:
    return float(rule["serve"]["split"].get(on, 0.0))


def _with_rings_above_everyone(edited: dict[str, Any], on: str) -> dict[str, Any]:
    """Drop the rings that serve no more than everyone; order the rest, highest share first,
    just before the catch-all (the first ring that matches a context decides)."""
    everyone = on_share(edited) or 0.0
    rules = edited["rules"]
    rings = [rule for rule in rules if rule.get("name") == _RING_RULE]
    kept = sorted(
        (ring for ring in rings if _ring_share(ring, on) > everyone),
        key=lambda ring: -_ring_share(ring, on),
    )
    others = [rule for rule in rules if rule.get("name") != _RING_RULE]
    catch_all = catch_all_index({"rules": others})
    at = len(others) if catch_all is None else catch_all
    edited["rules"] = [*others[:at], *kept, *others[at:]]
    return edited


def _exposure_split(
    on: str, off: str, treated: int, held: int, *, has_holdback: bool
) -> dict[str, float]:
    split = {on: treated / _THOUSANDTHS, off: (BUCKETS - treated - held) / _THOUSANDTHS}
    if has_holdback:
        split[HOLDBACK] = held / _THOUSANDTHS
    return split


def _with_catch_all(edited: dict[str, Any], split: dict[str, float]) -> dict[str, Any]:
    rules = list(edited.get("rules", []))
    index = catch_all_index(edited)
    existing = rules[index] if index is not None else {}
    serve = existing.get("serve")
    rule: dict[str, Any] = {
        "name": existing.get("name") or "rollout",
        "when": [],
        "serve": {
            "split": split,
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


def current_exposure(definition: Definition, key: str) -> tuple[float, float, tuple[str, ...]]:
    """Return a bool flag's exposure: on percent, holdback percent and ring segments.

    The catch-all split (or the default variant: 100 % when it is the on variant) gives the
    shares of everyone. While it serves nobody, a ring (``with_exposure`` with segments) is
    read from its (first) rule instead: a plan's rings stay beside everyone's share once it
    ramps everyone, and then everyone's share is the exposure.

    Raises:
        ValidationError: not an on/off flag.
    """
    on, _ = bool_variants(definition, key)
    ring = next((r for r in definition.get("rules", []) if r.get("name") == _RING_RULE), None)
    if ring is not None and not on_share(definition):
        split = ring.get("serve", {}).get("split", {})
        segments = tuple(str(v) for c in ring.get("when", []) for v in c.get("values", []))
        return float(split.get(on, 0.0)), float(split.get(HOLDBACK, 0.0)), segments
    index = catch_all_index(definition)
    serve = definition.get("default") if index is None else definition["rules"][index]["serve"]
    if isinstance(serve, Mapping):
        split = serve.get("split", {})
        return float(split.get(on, 0.0)), float(split.get(HOLDBACK, 0.0)), ()
    return (100.0 if serve == on else 0.0), 0.0, ()


ROLLBACK_RULE = "rollback:targeted"
"""The rule a targeted rollback adds first: listed organisations get the off variant."""


def with_rollback_targets(
    definition: Definition,
    key: str,
    *,
    users: Iterable[str] = (),
    groups: Iterable[str] = (),
    orgs: Iterable[str] = (),
    org_attribute: str = "org_id",
) -> dict[str, Any]:
    """Return ``definition`` serving the off variant to these users, groups and organisations.

    Users and groups go into the off variant's target, placed first and removed from every
    other target, so they win over any allow-list. Organisations get a rule before all others
    (``org_attribute in orgs`` serves off); targets come before rules, so a user or group
    allow-listed "on" keeps it unless named here too. Everyone else keeps what they had.

    Raises:
        ValidationError: not an on/off flag.
    """
    _, off = bool_variants(definition, key)
    user_list, group_list, org_list = list(users), list(groups), list(orgs)
    edited = with_targets_removed(definition, users=user_list, groups=group_list)
    targets = list(edited.get("targets", []))
    existing = next((t for t in targets if t.get("variant") == off), None)
    if existing is not None:
        targets.remove(existing)
    target = existing or {"variant": off, "keys": [], "groups": []}
    target = {
        **target,
        "keys": _merged(target.get("keys", []), user_list),
        "groups": _merged(target.get("groups", []), group_list),
    }
    if target["keys"] or target["groups"]:
        targets.insert(0, target)
    edited["targets"] = targets
    if org_list:
        rules = list(edited.get("rules", []))
        rule = next((r for r in rules if r.get("name") == ROLLBACK_RULE), None)
        listed = [] if rule is None else rule["when"][0].get("values", [])
        rules = [r for r in rules if r.get("name") != ROLLBACK_RULE]
        condition = {"attribute": org_attribute, "op": "in", "values": _merged(listed, org_list)}
        rules.insert(0, {"name": ROLLBACK_RULE, "when": [condition], "serve": off})
        edited["rules"] = rules
    return edited
