"""Value types of the flag engine: what a flag is, who asks, and what comes back.

Everything here is immutable. Definitions (``Flag``, ``Rule``, ``Condition``, ...) are what a
document says after validation; ``Context`` is who is asking; ``Evaluation`` and ``Variant`` are
answers. The OpenFeature vocabulary is used for reasons and error codes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

__all__ = [
    "BucketingAttribute",
    "Condition",
    "Context",
    "ErrorCode",
    "Evaluation",
    "Flag",
    "FlagType",
    "Operator",
    "Prerequisite",
    "Reason",
    "Rule",
    "Segment",
    "Split",
    "Target",
    "Variant",
    "context_of_key",
]

BucketingAttribute = str
"""Name of the context attribute a split hashes; ``"key"`` means ``Context.key``."""


class Reason(StrEnum):
    """Why an evaluation returned what it did (OpenFeature reasons, plus two of ours)."""

    STATIC = "STATIC"  # the flag has no targeting: everyone gets the same variant
    TARGETING_MATCH = "TARGETING_MATCH"  # an individual target or a rule served a fixed variant
    SPLIT = "SPLIT"  # a percentage split chose the variant
    DEFAULT = "DEFAULT"  # targeting exists but nothing matched: the flag's default variant
    DISABLED = "DISABLED"  # the kill switch is engaged: the flag's default variant
    PREREQUISITE_FAILED = "PREREQUISITE_FAILED"  # a prerequisite flag did not serve what it needs
    OVERRIDE = "OVERRIDE"  # an operator forced the value (environment override)
    STALE = "STALE"  # served from the SDK's backup file: not yet confirmed by the server
    ERROR = "ERROR"  # the caller's default came back; see the error code


class ErrorCode(StrEnum):
    """What went wrong when ``Reason.ERROR`` is returned (OpenFeature error codes)."""

    FLAG_NOT_FOUND = "FLAG_NOT_FOUND"
    TYPE_MISMATCH = "TYPE_MISMATCH"
    PARSE_ERROR = "PARSE_ERROR"
    TARGETING_KEY_MISSING = "TARGETING_KEY_MISSING"
    INVALID_CONTEXT = "INVALID_CONTEXT"
    GENERAL = "GENERAL"


class FlagType(StrEnum):
    """The type of a flag's variant values."""

    BOOL = "bool"
    STRING = "string"
    NUMBER = "number"
    JSON = "json"


class Operator(StrEnum):
    """Condition operators; see ``rheostat.flags.operators`` for their meaning."""

    EQ = "eq"
    IN = "in"
    NOT_IN = "not_in"
    CONTAINS = "contains"
    STARTS_WITH = "starts_with"
    ENDS_WITH = "ends_with"
    MATCHES = "matches"
    LT = "lt"
    LTE = "lte"
    GT = "gt"
    GTE = "gte"
    SEMVER_EQ = "semver_eq"
    SEMVER_LT = "semver_lt"
    SEMVER_GT = "semver_gt"
    BEFORE = "before"
    AFTER = "after"
    IN_CIDR = "in_cidr"
    IN_SEGMENT = "in_segment"
    EXISTS = "exists"


@dataclass(frozen=True, slots=True)
class Context:
    """Who is asking.

    Attributes:
        key: the bucketing id (user, org, session...). Empty means anonymous: splits that
            bucket by key do not apply to it.
        attributes: anything rules may test (``country``, ``plan``, ``groups``...). Treat it as
            read-only once the context is built.
    """

    key: str = ""
    attributes: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_unleash(cls, context: Mapping[str, Any]) -> Context:
        """Build a context from an Unleash SDK context dict.

        ``userId`` becomes the key; ``properties`` and the standard fields (``sessionId``,
        ``remoteAddress``, ``environment``, ``appName``, ``currentTime``) become attributes.
        """
        properties = context.get("properties")
        attributes: dict[str, Any] = dict(properties) if isinstance(properties, Mapping) else {}
        attributes.update(
            (name, value)
            for name, value in context.items()
            if name != "properties" and value is not None
        )
        user_id = context.get("userId")
        return cls(key="" if user_id is None else str(user_id), attributes=attributes)


_NO_ATTRIBUTES: Mapping[str, Any] = MappingProxyType({})
_new_object = object.__new__
# The slots' own setters: what the frozen dataclass __init__ ends up calling, minus its overhead.
_set_key = Context.__dict__["key"].__set__
_set_attributes = Context.__dict__["attributes"].__set__


def context_of_key(key: str) -> Context:
    """Return ``Context(key=key)``, built about three times faster, for a ``str`` context.

    ``FlagSet`` calls it on every evaluation given a plain ``str``: it skips the frozen
    dataclass ``__init__`` and shares one read-only empty ``attributes`` mapping. The result
    equals ``Context(key=key)``; a test keeps every field covered.
    """
    context: Context = _new_object(Context)
    _set_key(context, key)
    _set_attributes(context, _NO_ATTRIBUTES)
    return context


@dataclass(frozen=True, slots=True)
class Variant:
    """The variant served, as ``FlagSet.variant`` returns it.

    ``enabled`` is the flag's verdict for this context (for a bool flag, its value; for other
    types, whether the flag is switched on and its prerequisites hold). ``payload`` is the
    variant's value.
    """

    name: str
    enabled: bool
    payload: Any = None
    feature_enabled: bool | None = None

    def to_unleash(self) -> dict[str, Any]:
        """Render as the Unleash SDKs' variant dict (``name``, ``enabled``, ``payload``...)."""
        rendered: dict[str, Any] = {"name": self.name, "enabled": self.enabled}
        if self.payload is not None:
            rendered["payload"] = _unleash_payload(self.payload)
        rendered["feature_enabled"] = (
            self.enabled if self.feature_enabled is None else self.feature_enabled
        )
        return rendered


def _unleash_payload(payload: Any) -> dict[str, Any]:
    if _is_unleash_payload(payload):
        return dict(payload)
    if isinstance(payload, str):
        return {"type": "string", "value": payload}
    if isinstance(payload, int | float) and not isinstance(payload, bool):
        return {"type": "number", "value": str(payload)}
    return {"type": "json", "value": json.dumps(payload, separators=(",", ":"))}


def _is_unleash_payload(payload: Any) -> bool:
    """True for a payload already in Unleash's shape: ``{"type": str, "value": str}``.

    Unleash payload values are always strings (``"1.2"`` for a number, JSON text for json),
    and imported payloads keep whatever type name Unleash gave them.
    """
    return (
        isinstance(payload, Mapping)
        and set(payload) == {"type", "value"}
        and isinstance(payload["type"], str)
        and isinstance(payload["value"], str)
    )


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The full answer of ``FlagSet.evaluate``: never an exception.

    Attributes:
        value: the variant's value, or the caller's default on error.
        variant: the variant's name; None when the caller's default came back.
        reason: why (``Reason``).
        error_code: set only when ``reason`` is ``ERROR``.
        version: the flag version evaluated, when known.
    """

    value: Any
    variant: str | None
    reason: Reason
    error_code: ErrorCode | None = None
    version: int | None = None


# Definitions ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Condition:
    """``attribute op values``, optionally negated and case-insensitive."""

    attribute: str
    op: Operator
    values: tuple[Any, ...] = ()
    negate: bool = False
    case_insensitive: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Segment:
    """A named, reusable list of conditions (all must hold)."""

    name: str
    conditions: tuple[Condition, ...]
    description: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Split:
    """Variant weights in thousandths of a percent (sum 100,000), in a fixed order.

    Variants take contiguous bucket ranges in this order, so widening the first one's share
    keeps everyone who already had it.
    """

    weights: tuple[tuple[str, int], ...]
    by: BucketingAttribute = "key"


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """Conditions (all must hold) that serve a fixed variant or a split; first match wins."""

    conditions: tuple[Condition, ...]
    serve: str | Split
    name: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """An allow-list: these keys, or members of these groups, get ``variant``."""

    variant: str
    keys: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Prerequisite:
    """The flag is on only if ``flag`` serves one of ``variants`` to the same context."""

    flag: str
    variants: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Flag:
    """A validated flag definition (see the native document in ARCHITECTURE.md)."""

    key: str
    type: FlagType
    variants: Mapping[str, Any]
    default: str
    enabled: bool = True
    salt: str = ""
    hash_version: int = 1
    description: str = ""
    prerequisites: tuple[Prerequisite, ...] = ()
    targets: tuple[Target, ...] = ()
    rules: tuple[Rule, ...] = ()
    version: int | None = None

    @property
    def bucketing_salt(self) -> str:
        """The salt used for splits: the flag key unless set."""
        return self.salt or self.key

    @property
    def is_static(self) -> bool:
        """True when every context gets the same variant (no targeting at all)."""
        return not (self.prerequisites or self.targets or self.rules)
