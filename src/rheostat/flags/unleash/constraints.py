"""Unleash constraints compiled to predicates over a ``Context``.

Everything that does not depend on the context is done here, once: value sets, lower-cased
needles, parsed numbers, dates and versions, compiled regexes, parsed networks. Semantics are
Unleash's: a missing context field fails every operator except ``NOT_IN`` (which it passes),
``inverted`` negates the result, and list operators on an empty list never match (``NOT_IN``
always does).

Where Unleash evaluates a constraint as "never matches" (an unknown operator, a ``SEMVER_*``
value with a leading ``v``, a regex its engine rejects), so do we, inverted or not, and the
import records a warning. Values Unleash cannot compile either (a non-numeric ``NUM_*`` value,
an unparseable date or version, a missing ``value``) fail the import with the path.
"""

from __future__ import annotations

import ipaddress
import operator
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rheostat.errors import InvalidDefinition
from rheostat.flags.model import Context
from rheostat.flags.unleash.fields import FieldReader, read_field
from rheostat.flags.unleash.reading import (
    Diagnostics,
    optional_bool,
    optional_string,
    require_list,
    require_mapping,
    require_string,
    string_items,
)
from rheostat.flags.unleash.regex import UnsupportedPattern, compile_pattern
from rheostat.flags.unleash.semver import SemVer, parse_semver

__all__ = ["Predicate", "compile_constraints", "parse_networks"]

Predicate = Callable[[Context], bool]
"""A compiled test of a context."""

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True, kw_only=True)
class _Source:
    """One constraint's settings, validated."""

    read: FieldReader
    values: tuple[str, ...]
    value: str | None
    case_insensitive: bool
    path: str

    def required_value(self) -> str:
        if self.value is None:
            raise InvalidDefinition(f"{self.path}.value", "this operator needs a value")
        return self.value


_Builder = Callable[[_Source, Diagnostics], Predicate | None]
"""Compiles one operator; None means "never matches" (a warning was recorded)."""


def compile_constraints(raw: Any, path: str, diagnostics: Diagnostics) -> tuple[Predicate, ...]:
    """Compile a list of constraints (all must hold) found at ``path``."""
    if raw is None:
        return ()
    items = require_list(raw, path)
    return tuple(
        compile_constraint(item, f"{path}[{index}]", diagnostics)
        for index, item in enumerate(items)
    )


def compile_constraint(raw: Any, path: str, diagnostics: Diagnostics) -> Predicate:
    """Compile one constraint found at ``path``."""
    constraint = require_mapping(raw, path)
    name = require_string(constraint, "operator", path)
    builder = _BUILDERS.get(name)
    source = _source(constraint, path)
    inverted = optional_bool(constraint, "inverted", path, default=False)
    if builder is None:
        reason = f"unknown operator {name!r} never matches, as in Unleash"
        diagnostics.warn(f"{path}.operator", reason)
        return _never
    test = builder(source, diagnostics)
    if test is None:
        return _never
    return _negation(test) if inverted else test


def _source(constraint: Mapping[str, Any], path: str) -> _Source:
    return _Source(
        read=read_field(require_string(constraint, "contextName", path)),
        values=string_items(constraint, "values", path),
        value=optional_string(constraint, "value", path),
        case_insensitive=optional_bool(constraint, "caseInsensitive", path, default=False),
        path=path,
    )


def _never(context: Context) -> bool:
    return False


def _negation(test: Predicate) -> Predicate:
    def negated(context: Context) -> bool:
        return not test(context)

    return negated


# Lists and strings ---------------------------------------------------------------------------


def _in(source: _Source, diagnostics: Diagnostics) -> Predicate | None:
    members, read = frozenset(source.values), source.read

    def matches(context: Context) -> bool:
        return read(context) in members  # None is never a member

    return matches if members else _never


def _not_in(source: _Source, diagnostics: Diagnostics) -> Predicate | None:
    members, read = frozenset(source.values), source.read

    def matches(context: Context) -> bool:
        return read(context) not in members

    return matches


def _text_test(test: Callable[[str, tuple[str, ...]], bool]) -> _Builder:
    def build(source: _Source, diagnostics: Diagnostics) -> Predicate | None:
        fold = source.case_insensitive
        needles = tuple(item.lower() for item in source.values) if fold else source.values
        read = source.read

        def matches(context: Context) -> bool:
            text = read(context)
            if text is None:
                return False
            return test(text.lower() if fold else text, needles)

        return matches

    return build


def _contains_any(text: str, needles: tuple[str, ...]) -> bool:
    return any(needle in text for needle in needles)


# Numbers, dates, versions --------------------------------------------------------------------

_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?")


def _number_equal(left: float, right: float) -> bool:
    return abs(left - right) < sys.float_info.epsilon


def _parse_context_number(text: str | None) -> float | None:
    """Parse as Rust's ``f64::from_str`` would: no spaces, underscores or non-ASCII digits."""
    if text is None or not text.isascii() or "_" in text or text.strip() != text:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _parse_instant(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        return None
    return instant if instant.tzinfo is not None else None


def _parse_version(text: str | None) -> SemVer | None:
    return None if text is None else parse_semver(text)


def _ordered(
    parse_target: Callable[[_Source, Diagnostics], Any],
    parse_context: Callable[[str | None], Any],
    compare: Callable[[Any, Any], bool],
) -> _Builder:
    def build(source: _Source, diagnostics: Diagnostics) -> Predicate | None:
        target = parse_target(source, diagnostics)
        if target is None:
            return None
        read = source.read

        def matches(context: Context) -> bool:
            value = parse_context(read(context))
            return value is not None and compare(value, target)

        return matches

    return build


def _target_number(source: _Source, diagnostics: Diagnostics) -> float:
    text = source.required_value()
    if _NUMBER.fullmatch(text) is None:
        raise InvalidDefinition(f"{source.path}.value", f"{text!r} is not a number")
    return float(text)


def _target_instant(source: _Source, diagnostics: Diagnostics) -> datetime:
    text = source.required_value()
    instant = _parse_instant(text)
    if instant is None:
        reason = f"{text!r} is not an ISO-8601 date-time with a time zone"
        raise InvalidDefinition(f"{source.path}.value", reason)
    return instant


def _target_version(source: _Source, diagnostics: Diagnostics) -> SemVer | None:
    text = source.required_value()
    if text.startswith("v"):
        reason = f"{text!r} has a leading 'v'; Unleash rejects it, so this never matches"
        diagnostics.warn(f"{source.path}.value", reason)
        return None
    version = parse_semver(text)
    if version is None:
        raise InvalidDefinition(f"{source.path}.value", f"{text!r} is not a semantic version")
    return version


def _numeric(compare: Callable[[Any, Any], bool]) -> _Builder:
    return _ordered(_target_number, _parse_context_number, compare)


def _dated(compare: Callable[[Any, Any], bool]) -> _Builder:
    return _ordered(_target_instant, _parse_instant, compare)


def _versioned(compare: Callable[[Any, Any], bool]) -> _Builder:
    return _ordered(_target_version, _parse_version, compare)


# Patterns and networks -----------------------------------------------------------------------


def _regex(source: _Source, diagnostics: Diagnostics) -> Predicate | None:
    text = source.required_value()
    try:
        pattern = compile_pattern(text, case_insensitive=source.case_insensitive)
    except UnsupportedPattern as error:
        raise InvalidDefinition(f"{source.path}.value", str(error)) from error
    if pattern is None:
        reason = f"{text!r} is not a regex Unleash accepts, so this never matches"
        diagnostics.warn(f"{source.path}.value", reason)
        return None
    search, read = pattern.search, source.read

    def matches(context: Context) -> bool:
        text = read(context)
        return text is not None and search(text) is not None

    return matches


def parse_networks(
    entries: tuple[str, ...], path: str, diagnostics: Diagnostics
) -> tuple[_Network, ...]:
    """Parse addresses and CIDR ranges; invalid entries are skipped (as Unleash does)."""
    networks = []
    for index, entry in enumerate(entries):
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            diagnostics.warn(f"{path}[{index}]", f"{entry!r} is not an address or range; skipped")
    return tuple(networks)


def _in_cidr(source: _Source, diagnostics: Diagnostics) -> Predicate | None:
    networks = parse_networks(source.values, f"{source.path}.values", diagnostics)
    read = source.read

    def matches(context: Context) -> bool:
        return is_in_networks(read(context), networks)

    return matches


def is_in_networks(text: str | None, networks: tuple[_Network, ...]) -> bool:
    """Return whether the address ``text`` lies in one of ``networks``."""
    if text is None:
        return False
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    return any(address in network for network in networks)


_BUILDERS: dict[str, _Builder] = {
    "IN": _in,
    "NOT_IN": _not_in,
    "STR_STARTS_WITH": _text_test(str.startswith),
    "STR_ENDS_WITH": _text_test(str.endswith),
    "STR_CONTAINS": _text_test(_contains_any),
    "NUM_EQ": _numeric(_number_equal),
    "NUM_GT": _numeric(operator.gt),
    "NUM_GTE": _numeric(operator.ge),
    "NUM_LT": _numeric(operator.lt),
    "NUM_LTE": _numeric(operator.le),
    "DATE_AFTER": _dated(operator.gt),
    "DATE_BEFORE": _dated(operator.lt),
    "SEMVER_EQ": _versioned(operator.eq),
    "SEMVER_GT": _versioned(operator.gt),
    "SEMVER_GTE": _versioned(operator.ge),
    "SEMVER_LT": _versioned(operator.lt),
    "SEMVER_LTE": _versioned(operator.le),
    "REGEX": _regex,
    "IN_CIDR": _in_cidr,
}
