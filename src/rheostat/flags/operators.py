"""Condition operators: each builds, at load time, a small test of one attribute value.

``MATCHERS_BY_OPERATOR[op](values, case_insensitive)`` returns ``test(value) -> bool``. Builders
validate and pre-parse their ``values`` (regexes, semvers, dates, networks) and raise
``ValueError`` with a readable reason; the document parser turns that into
``InvalidDefinition`` with the field's path. Tests never raise: a value of the wrong type simply
does not match.

``in_segment``, ``exists`` and ``not_in`` are handled in ``rheostat.flags.rules`` (they are about
the attribute's presence or other definitions, not about one value).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from rheostat.flags.model import Operator
from rheostat.flags.semver import SemVer, parse_semver

__all__ = ["MATCHERS_BY_OPERATOR", "ValueTest", "parse_instant"]

ValueTest = Callable[[Any], bool]
MatcherFactory = Callable[[Sequence[Any], bool], ValueTest]


def _fold(value: Any, case_insensitive: bool) -> Any:
    return value.casefold() if case_insensitive and isinstance(value, str) else value


def _membership(values: Sequence[Any], case_insensitive: bool) -> ValueTest:
    hashable = [value for value in values if not isinstance(value, dict | list)]
    members = frozenset(_fold(value, case_insensitive) for value in hashable)
    if len(hashable) != len(values):
        raise ValueError("values must be scalars (strings, numbers or booleans)")

    def test(value: Any) -> bool:
        try:
            return _fold(value, case_insensitive) in members
        except TypeError:  # an unhashable attribute value cannot be a member
            return False

    return test


def _string_test(method: str) -> MatcherFactory:
    def factory(values: Sequence[Any], case_insensitive: bool) -> ValueTest:
        needles = tuple(_fold(_require_str(value), case_insensitive) for value in values)

        def test(value: Any) -> bool:
            if not isinstance(value, str):
                return False
            haystack = _fold(value, case_insensitive)
            return any(getattr(haystack, method)(needle) for needle in needles)

        return test

    return factory


def _contains(values: Sequence[Any], case_insensitive: bool) -> ValueTest:
    needles = tuple(_fold(_require_str(value), case_insensitive) for value in values)

    def test(value: Any) -> bool:
        if not isinstance(value, str):
            return False
        haystack = _fold(value, case_insensitive)
        return any(needle in haystack for needle in needles)

    return test


def _matches(values: Sequence[Any], case_insensitive: bool) -> ValueTest:
    flags = re.IGNORECASE if case_insensitive else 0
    patterns = []
    for value in values:
        try:
            patterns.append(re.compile(_require_str(value), flags))
        except re.error as error:
            raise ValueError(f"bad regular expression {value!r}: {error}") from error

    def test(value: Any) -> bool:
        return isinstance(value, str) and any(p.search(value) for p in patterns)

    return test


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _comparison(compare: Callable[[float, float], bool]) -> MatcherFactory:
    def factory(values: Sequence[Any], case_insensitive: bool) -> ValueTest:
        bound = _number(_single(values))
        if bound is None:
            raise ValueError(f"needs a number, got {_single(values)!r}")

        def test(value: Any) -> bool:
            number = _number(value)
            return number is not None and compare(number, bound)

        return test

    return factory


def _semver(compare: Callable[[SemVer, SemVer], bool]) -> MatcherFactory:
    def factory(values: Sequence[Any], case_insensitive: bool) -> ValueTest:
        bound = parse_semver(_require_str(_single(values)))
        if bound is None:
            raise ValueError(f"not a semantic version: {_single(values)!r}")

        def test(value: Any) -> bool:
            version = parse_semver(value) if isinstance(value, str) else None
            return version is not None and compare(version, bound)

        return test

    return factory


def parse_instant(value: Any) -> datetime | None:
    """Read a datetime, an ISO-8601 string or epoch seconds; naive times are taken as UTC."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=UTC)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _instant(after: bool) -> MatcherFactory:
    def factory(values: Sequence[Any], case_insensitive: bool) -> ValueTest:
        bound = parse_instant(_single(values))
        if bound is None:
            raise ValueError(f"needs an ISO-8601 date or epoch seconds, got {_single(values)!r}")

        def test(value: Any) -> bool:
            moment = parse_instant(value)
            if moment is None:
                return False
            return moment > bound if after else moment < bound

        return test

    return factory


def _in_cidr(values: Sequence[Any], case_insensitive: bool) -> ValueTest:
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(_require_str(value), strict=False))
        except ValueError as error:
            raise ValueError(f"not a CIDR block: {value!r}") from error

    def test(value: Any) -> bool:
        if not isinstance(value, str):
            return False  # ints, bools and bytes are not written addresses
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            return False
        mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:10.1.2.3 behind dual-stack proxies
        return any(address in net or (mapped is not None and mapped in net) for net in networks)

    return test


def _single(values: Sequence[Any]) -> Any:
    if len(values) != 1:
        raise ValueError(f"takes exactly one value, got {len(values)}")
    return values[0]


def _require_str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"values must be strings, got {value!r}")
    return value


MATCHERS_BY_OPERATOR: dict[Operator, MatcherFactory] = {
    Operator.EQ: _membership,
    Operator.IN: _membership,
    Operator.NOT_IN: _membership,  # negated by rules
    Operator.CONTAINS: _contains,
    Operator.STARTS_WITH: _string_test("startswith"),
    Operator.ENDS_WITH: _string_test("endswith"),
    Operator.MATCHES: _matches,
    Operator.LT: _comparison(lambda value, bound: value < bound),
    Operator.LTE: _comparison(lambda value, bound: value <= bound),
    Operator.GT: _comparison(lambda value, bound: value > bound),
    Operator.GTE: _comparison(lambda value, bound: value >= bound),
    Operator.SEMVER_EQ: _semver(lambda value, bound: value == bound),
    Operator.SEMVER_LT: _semver(lambda value, bound: value < bound),
    Operator.SEMVER_GT: _semver(lambda value, bound: value > bound),
    Operator.BEFORE: _instant(after=False),
    Operator.AFTER: _instant(after=True),
    Operator.IN_CIDR: _in_cidr,
}
