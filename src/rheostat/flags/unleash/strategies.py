"""Unleash activation strategies compiled to predicates over a ``Context``.

A feature is on when any of its strategies matches (no strategies: always). A strategy matches
when its own rule, its constraints and the constraints of every segment it names all hold. A
strategy naming a segment the document lacks never matches (as in Unleash; a warning is
recorded). Built-in strategy names only: Unleash treats custom strategies as answered by code
the client registers, which an imported document does not carry, so they fail the import.

``applicationHostname`` compares the context attribute ``hostname`` (the flag engine does no
I/O, so it cannot ask the machine); ``gradualRolloutRandom`` and ``random`` stickiness use the
deterministic stand-in described in ``fields``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from rheostat.errors import InvalidDefinition
from rheostat.flags.model import Context
from rheostat.flags.unleash.constraints import (
    Predicate,
    compile_constraints,
    is_in_networks,
    parse_networks,
)
from rheostat.flags.unleash.fields import (
    FieldReader,
    random_stand_in,
    read_field,
    seed_reader,
    session_id,
    user_id,
)
from rheostat.flags.unleash.hashing import normalized_hash
from rheostat.flags.unleash.reading import (
    Diagnostics,
    optional_list,
    require_mapping,
    require_string,
)

__all__ = [
    "StrategySource",
    "all_of",
    "compile_rule",
    "compile_segment_references",
    "compile_strategy_constraints",
    "rollout",
    "strategy_source",
]

_PERCENT = re.compile(r"\+?[0-9]+")


@dataclass(frozen=True, slots=True, kw_only=True)
class StrategySource:
    """One strategy's name and parameters, validated, with where it sits."""

    name: str
    parameters: Mapping[str, Any]
    path: str
    feature: str

    def parameter(self, key: str, default: str | None = None) -> str | None:
        """Return the string parameter ``key``, or ``default`` when missing."""
        value = self.parameters.get(key)
        if value is None:
            return default
        if isinstance(value, str):
            return value
        raise InvalidDefinition(f"{self.path}.parameters.{key}", "expected a string")

    @property
    def group_id(self) -> str:
        """The ``groupId`` parameter; the feature name when missing (an empty one stays)."""
        return self.parameter("groupId", self.feature) or ""

    def required(self, key: str) -> str:
        """Return the string parameter ``key``; missing raises."""
        value = self.parameter(key)
        if value is None:
            raise InvalidDefinition(f"{self.path}.parameters.{key}", f"{self.name} needs {key}")
        return value

    def percentage(self, key: str) -> int:
        """Return the percentage parameter ``key`` (an integer 0..100, as text or number)."""
        value = self.parameters.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or _PERCENT.fullmatch(value) is None or int(value) > 100:
            path = f"{self.path}.parameters.{key}"
            raise InvalidDefinition(path, f"{self.name} needs {key} as a whole number 0..100")
        return int(value)

    def split(self, key: str, *, default: str | None = None) -> tuple[str, ...]:
        """Return the comma-separated list parameter ``key``, each item trimmed."""
        text = self.parameter(key)
        if text is None:
            text = self.required(key) if default is None else default
        return tuple(item.strip() for item in text.split(","))


_Rule = Callable[[StrategySource, Diagnostics], Predicate | None]
"""Compiles one strategy's own rule; None means "always"."""


def compile_rule(source: StrategySource, diagnostics: Diagnostics) -> Predicate | None:
    """Compile the strategy's own rule (without its constraints); None means always."""
    rule = _RULES.get(source.name)
    if rule is None:
        known = ", ".join(sorted(_RULES))
        reason = f"unknown strategy {source.name!r}: custom strategies cannot be imported ({known})"
        raise InvalidDefinition(f"{source.path}.name", reason)
    return rule(source, diagnostics)


def compile_segment_references(
    raw: Mapping[str, Any],
    path: str,
    segments: Mapping[int, tuple[Predicate, ...]],
    diagnostics: Diagnostics,
) -> tuple[Predicate, ...] | None:
    """Return the constraints of the segments the strategy names; None if one is missing."""
    constraints: list[Predicate] = []
    for index, segment_id in enumerate(optional_list(raw, "segments", path)):
        if not isinstance(segment_id, int) or isinstance(segment_id, bool):
            raise InvalidDefinition(f"{path}.segments[{index}]", "expected a segment id (integer)")
        if segment_id not in segments:
            reason = f"segment {segment_id} is not in the document, so this strategy never matches"
            diagnostics.warn(f"{path}.segments[{index}]", reason)
            return None
        constraints.extend(segments[segment_id])
    return tuple(constraints)


def compile_strategy_constraints(
    raw: Mapping[str, Any], path: str, diagnostics: Diagnostics
) -> tuple[Predicate, ...]:
    """Compile the strategy's own constraints."""
    return compile_constraints(raw.get("constraints"), f"{path}.constraints", diagnostics)


def all_of(tests: tuple[Predicate, ...]) -> Predicate | None:
    """Return one predicate holding when all ``tests`` hold; None when there are none."""
    if not tests:
        return None
    if len(tests) == 1:
        return tests[0]

    def matches(context: Context) -> bool:
        return all(test(context) for test in tests)

    return matches


def _never(context: Context) -> bool:
    return False


def rollout(group_id: str, percent: int, seed: FieldReader) -> Predicate:
    """Return the test "the seed's bucket in ``group_id`` is within ``percent``"."""
    if percent <= 0:
        return _never
    if percent >= 100:  # every bucket is within 100%: only the seed must exist

        def has_seed(context: Context) -> bool:
            return seed(context) is not None

        return has_seed

    def matches(context: Context) -> bool:
        identifier = seed(context)
        return identifier is not None and normalized_hash(group_id, identifier, 100) <= percent

    return matches


def _default(source: StrategySource, diagnostics: Diagnostics) -> Predicate | None:
    return None


def _user_with_id(source: StrategySource, diagnostics: Diagnostics) -> Predicate | None:
    user_ids = frozenset(source.split("userIds"))

    def matches(context: Context) -> bool:
        return user_id(context) in user_ids

    return matches


def _gradual(seed: FieldReader) -> _Rule:
    def build(source: StrategySource, diagnostics: Diagnostics) -> Predicate | None:
        return rollout(source.required("groupId"), source.percentage("percentage"), seed)

    return build


def _random(source: StrategySource, diagnostics: Diagnostics) -> Predicate | None:
    return rollout(source.feature, source.percentage("percentage"), random_stand_in)


def _flexible(source: StrategySource, diagnostics: Diagnostics) -> Predicate | None:
    seed = seed_reader(source.parameter("stickiness"))
    return rollout(source.group_id, source.percentage("rollout"), seed)


def _remote_address(source: StrategySource, diagnostics: Diagnostics) -> Predicate | None:
    networks = parse_networks(source.split("IPs"), f"{source.path}.parameters.IPs", diagnostics)
    read = read_field("remoteAddress")

    def matches(context: Context) -> bool:
        return is_in_networks(read(context), networks)

    return matches


def _application_hostname(source: StrategySource, diagnostics: Diagnostics) -> Predicate | None:
    hostnames = frozenset(name.lower() for name in source.split("hostNames", default=""))
    read = read_field("hostname")

    def matches(context: Context) -> bool:
        hostname = read(context)
        return hostname is not None and hostname.lower() in hostnames

    return matches


_RULES: dict[str, _Rule] = {
    "default": _default,
    "userWithId": _user_with_id,
    "gradualRolloutUserId": _gradual(user_id),
    "gradualRolloutSessionId": _gradual(session_id),
    "gradualRolloutRandom": _random,
    "flexibleRollout": _flexible,
    "remoteAddress": _remote_address,
    "applicationHostname": _application_hostname,
}


def strategy_source(raw: Any, path: str, feature: str) -> tuple[Mapping[str, Any], StrategySource]:
    """Validate the strategy object at ``path`` and return it with its source."""
    strategy = require_mapping(raw, path)
    if strategy.get("disabled") is True:
        reason = "a disabled strategy is not part of the client API; export /api/client/features"
        raise InvalidDefinition(f"{path}.disabled", reason)
    parameters = strategy.get("parameters")
    parameters = {} if parameters is None else require_mapping(parameters, f"{path}.parameters")
    name = require_string(strategy, "name", path)
    return strategy, StrategySource(name=name, parameters=parameters, path=path, feature=feature)
