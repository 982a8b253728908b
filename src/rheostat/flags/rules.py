"""Conditions and segments compiled into predicates over a ``Context``.

Semantics, documented for users:

* The attribute ``key`` is ``Context.key``; others come from ``Context.attributes``.
* A missing attribute (absent, None, or an empty key) never matches, negated or not; only
  ``exists`` tests presence, and ``negate`` on it means "absent".
* A list-valued attribute (``groups``) matches when any element matches; ``not_in`` holds when
  no element is among the values.
* ``negate`` inverts the result for a present attribute.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rheostat.flags.model import Condition, Context, Operator, Segment
from rheostat.flags.operators import MATCHERS_BY_OPERATOR, ValueTest

__all__ = ["Predicate", "compile_condition", "compile_conditions", "matches_all"]

Predicate = Callable[[Context], bool]

_MISSING: Any = object()
_COLLECTIONS = (list, tuple, set, frozenset)
_ODD_VALUE = (TypeError, ValueError, OverflowError, OSError, RecursionError)
_MEMBERSHIP = frozenset({Operator.EQ, Operator.IN, Operator.NOT_IN})


def compile_conditions(
    conditions: Sequence[Condition], segments: Mapping[str, tuple[Predicate, ...]]
) -> tuple[Predicate, ...]:
    """Compile each condition; ``segments`` maps segment names to their compiled conditions."""
    return tuple(compile_condition(condition, segments) for condition in conditions)


def compile_condition(
    condition: Condition, segments: Mapping[str, tuple[Predicate, ...]]
) -> Predicate:
    """Compile one condition into ``predicate(context) -> bool`` (never raises)."""
    if condition.op is Operator.IN_SEGMENT:
        return _segment_predicate(condition, segments)
    if condition.op is Operator.EXISTS:
        return _exists_predicate(condition.attribute, negate=condition.negate)
    test = MATCHERS_BY_OPERATOR[condition.op](condition.values, condition.case_insensitive)
    negate = condition.negate != (condition.op is Operator.NOT_IN)
    if (
        condition.op in _MEMBERSHIP
        and not condition.case_insensitive
        and condition.attribute != "key"
    ):
        members = frozenset(condition.values)
        return _membership_predicate(condition.attribute, members, test, negate=negate)
    return _attribute_predicate(condition.attribute, test, negate=negate)


def compile_segment(
    segment: Segment, segments: Mapping[str, tuple[Predicate, ...]]
) -> tuple[Predicate, ...]:
    """Compile a segment's conditions (segments may use segments compiled before them)."""
    return compile_conditions(segment.conditions, segments)


def matches_all(predicates: tuple[Predicate, ...], context: Context) -> bool:
    """Return True when every predicate holds for ``context``."""
    return all(predicate(context) for predicate in predicates)


def _attribute_predicate(attribute: str, test: ValueTest, *, negate: bool) -> Predicate:
    if attribute == "key":

        def key_predicate(context: Context) -> bool:
            try:
                return bool(context.key) and test(context.key) != negate
            except _ODD_VALUE:  # e.g. a key no operator can read: no match
                return False

        return key_predicate

    def predicate(context: Context) -> bool:
        value = context.attributes.get(attribute, _MISSING)
        if value is _MISSING or value is None:
            return False
        try:
            if isinstance(value, _COLLECTIONS):
                return any(test(element) for element in value) != negate
            return test(value) != negate
        except _ODD_VALUE:  # a value no operator can read (huge, NaN, out of range): no match
            return False

    return predicate


def _membership_predicate(
    attribute: str, members: frozenset[Any], test: ValueTest, *, negate: bool
) -> Predicate:
    """The common case (``plan in [...]`` on a string attribute), without extra calls."""
    general = _attribute_predicate(attribute, test, negate=negate)

    def predicate(context: Context) -> bool:
        value = context.attributes.get(attribute)
        if value.__class__ is str:
            return (value in members) != negate
        return general(context)

    return predicate


def _exists_predicate(attribute: str, *, negate: bool) -> Predicate:
    if attribute == "key":
        return lambda context: bool(context.key) != negate
    return lambda context: (context.attributes.get(attribute) is not None) != negate


def _segment_predicate(
    condition: Condition, segments: Mapping[str, tuple[Predicate, ...]]
) -> Predicate:
    # Several segments in one condition: the context must be in any of them.
    members = tuple(segments[name] for name in condition.values)
    negate = condition.negate

    def predicate(context: Context) -> bool:
        inside = any(matches_all(conditions, context) for conditions in members)
        return inside != negate

    return predicate
