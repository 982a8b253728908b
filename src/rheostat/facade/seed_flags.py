"""The seeds' flag record (``config/feature_flags.json``) and its native definition, both ways.

A seed flag is on for its allow-listed users and groups, and for ``rollout_percentage`` % of
everyone else whose attributes meet ``conditions``; ``status: disabled`` turns it off for all.
In the native form the allow-list is a target, each condition a rule serving "off" to contexts
that fail it (named ``requires <attribute>``), and the percentage the catch-all split, so the
rollout-status view and ``set_rollout_percentage`` work on these flags like on any other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from rheostat.errors import InvalidDefinition
from rheostat.flags.edits import with_rollout
from rheostat.flags.summary import FlagState, flag_state, on_share

__all__ = ["FeatureFlag", "SeedStatus", "from_definition", "parse_seed_flag", "to_definition"]

_GATE_PREFIX = "requires "
_FULL = 100.0


class SeedStatus(StrEnum):
    """``status`` in the seeds' file."""

    ENABLED = "enabled"
    """On for everyone (100 %)."""
    DISABLED = "disabled"
    """Kill switch: off for everyone, allow-lists included."""
    PERCENTAGE = "percentage"
    """On for ``rollout_percentage`` % plus the allow-lists."""
    WHITELIST = "whitelist"
    """On for the allow-lists only (0 %)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FeatureFlag:
    """One flag as the seeds' ``FeatureFlagManager`` shows it.

    Attributes:
        conditions: attribute -> accepted values; all must hold for the percentage rollout.
        version: the rheostat flag version (``None`` for file-backed flags).
    """

    name: str
    status: SeedStatus
    rollout_percentage: float = 0.0
    enabled_users: tuple[str, ...] = ()
    enabled_groups: tuple[str, ...] = ()
    conditions: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    description: str = ""
    version: int | None = None

    @property
    def enabled(self) -> bool:
        """Whether the kill switch is off."""
        return self.status is not SeedStatus.DISABLED

    def to_dict(self) -> dict[str, Any]:
        """Return the seeds' JSON record."""
        return {
            "name": self.name,
            "status": self.status.value,
            "rollout_percentage": self.rollout_percentage,
            "enabled_users": list(self.enabled_users),
            "enabled_groups": list(self.enabled_groups),
            "conditions": {name: list(values) for name, values in self.conditions.items()},
            "description": self.description,
        }


def parse_seed_flag(record: Any, path: str) -> FeatureFlag:
    """Validate one record of the seeds' file.

    Raises:
        InvalidDefinition: naming ``path`` and the field.
    """
    if not isinstance(record, Mapping):
        raise InvalidDefinition(path, "a flag record must be an object")
    name = record.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidDefinition(f"{path}.name", "missing or not a string")
    return FeatureFlag(
        name=name,
        status=_status(record.get("status", "enabled"), f"{path}.status"),
        rollout_percentage=_percent(record.get("rollout_percentage", 0.0), path),
        enabled_users=_strings(record.get("enabled_users"), f"{path}.enabled_users"),
        enabled_groups=_strings(record.get("enabled_groups"), f"{path}.enabled_groups"),
        conditions=_conditions(record.get("conditions"), f"{path}.conditions"),
        description=str(record.get("description") or ""),
    )


def _status(raw: Any, path: str) -> SeedStatus:
    try:
        return SeedStatus(raw)
    except ValueError:
        known = ", ".join(status.value for status in SeedStatus)
        raise InvalidDefinition(path, f"unknown status {raw!r} (one of {known})") from None


def _percent(raw: Any, path: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0 <= raw <= _FULL:
        raise InvalidDefinition(f"{path}.rollout_percentage", f"must be 0..100, got {raw!r}")
    return float(raw)


def _strings(raw: Any, path: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list | tuple) or not all(isinstance(item, str) for item in raw):
        raise InvalidDefinition(path, "must be a list of strings")
    return tuple(raw)


def _conditions(raw: Any, path: str) -> dict[str, tuple[Any, ...]]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise InvalidDefinition(path, "must map attribute names to a value or a list of values")
    return {
        str(name): tuple(values) if isinstance(values, list | tuple) else (values,)
        for name, values in raw.items()
    }


def to_definition(flag: FeatureFlag) -> dict[str, Any]:
    """Return the native definition of a seed flag."""
    percent = {SeedStatus.ENABLED: _FULL, SeedStatus.WHITELIST: 0.0}.get(
        flag.status, flag.rollout_percentage
    )
    targets = []
    if flag.enabled_users or flag.enabled_groups:
        targets.append(
            {"variant": "on", "keys": list(flag.enabled_users), "groups": list(flag.enabled_groups)}
        )
    gated = {
        "description": flag.description,
        "enabled": flag.enabled,
        "variants": {"on": True, "off": False},
        "default": "off",
        "targets": targets,
        "rules": [
            *(rule for name, values in flag.conditions.items() for rule in _gate(name, values)),
        ],
    }
    return with_rollout(gated, percent, flag.name)


def _gate(attribute: str, values: tuple[Any, ...]) -> list[dict[str, Any]]:
    """Rules serving "off" when ``attribute`` is absent or not one of ``values``."""
    name = f"{_GATE_PREFIX}{attribute}"
    return [
        {
            "name": name,
            "when": [{"attribute": attribute, "op": "exists", "negate": True}],
            "serve": "off",
        },
        {
            "name": name,
            "when": [{"attribute": attribute, "op": "in", "values": list(values), "negate": True}],
            "serve": "off",
        },
    ]


_STATUS_BY_STATE = {
    FlagState.ENABLED: SeedStatus.ENABLED,
    FlagState.DISABLED: SeedStatus.DISABLED,
    FlagState.PERCENTAGE: SeedStatus.PERCENTAGE,
    FlagState.TARGETED: SeedStatus.WHITELIST,
    FlagState.OFF: SeedStatus.PERCENTAGE,
}


def from_definition(
    name: str, definition: Mapping[str, Any], *, version: int | None = None
) -> FeatureFlag:
    """Return the seed view of any native flag definition (a summary for non-bool flags)."""
    percent = on_share(definition)
    on = "on" if percent is None else _on_name(definition)
    targets = [t for t in definition.get("targets", []) if t.get("variant") == on]
    return FeatureFlag(
        name=name,
        status=_STATUS_BY_STATE[flag_state(definition)],
        rollout_percentage=_FULL if percent is None else percent,
        enabled_users=tuple(key for t in targets for key in t.get("keys", [])),
        enabled_groups=tuple(group for t in targets for group in t.get("groups", [])),
        conditions=_gates_of(definition),
        description=str(definition.get("description", "")),
        version=version,
    )


def _on_name(definition: Mapping[str, Any]) -> str:
    variants: Mapping[str, Any] = definition.get("variants", {})
    return next((n for n, v in variants.items() if v is True), "on")


def _gates_of(definition: Mapping[str, Any]) -> dict[str, tuple[Any, ...]]:
    conditions: dict[str, tuple[Any, ...]] = {}
    for rule in definition.get("rules", []):
        if not str(rule.get("name", "")).startswith(_GATE_PREFIX):
            continue
        for condition in rule.get("when", []):
            if condition.get("op") == "in":
                conditions[condition["attribute"]] = tuple(condition.get("values", []))
    return conditions
