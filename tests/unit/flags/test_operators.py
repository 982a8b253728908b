"""Each operator, negation, case folding, lists and missing attributes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from rheostat import Context, FlagSet


def matches(condition: dict[str, Any], attributes: dict[str, Any], key: str = "user-1") -> bool:
    document = {"flags": {"f": {"default": "off", "rules": [{"when": [condition], "serve": "on"}]}}}
    return FlagSet.from_dict(document).is_enabled("f", Context(key=key, attributes=attributes))


CASES = [
    ({"attribute": "plan", "op": "eq", "values": ["pro"]}, {"plan": "pro"}, True),
    ({"attribute": "plan", "op": "eq", "values": ["pro"]}, {"plan": "PRO"}, False),
    (
        {"attribute": "plan", "op": "eq", "values": ["pro"], "case_insensitive": True},
        {"plan": "PRO"},
        True,
    ),
    ({"attribute": "country", "op": "in", "values": ["US", "CA"]}, {"country": "CA"}, True),
    ({"attribute": "country", "op": "not_in", "values": ["US", "CA"]}, {"country": "DE"}, True),
    ({"attribute": "country", "op": "not_in", "values": ["US", "CA"]}, {"country": "US"}, False),
    ({"attribute": "country", "op": "not_in", "values": ["US"]}, {}, False),
    ({"attribute": "groups", "op": "in", "values": ["beta"]}, {"groups": ["staff", "beta"]}, True),
    (
        {"attribute": "groups", "op": "not_in", "values": ["beta"]},
        {"groups": ["staff", "beta"]},
        False,
    ),
    (
        {"attribute": "email", "op": "ends_with", "values": ["@acme.com"]},
        {"email": "a@acme.com"},
        True,
    ),
    (
        {"attribute": "email", "op": "starts_with", "values": ["admin"]},
        {"email": "a@acme.com"},
        False,
    ),
    ({"attribute": "path", "op": "contains", "values": ["/beta/"]}, {"path": "/x/beta/y"}, True),
    (
        {"attribute": "email", "op": "matches", "values": [r"^[a-z]+@acme\.com$"]},
        {"email": "ann@acme.com"},
        True,
    ),
    ({"attribute": "age", "op": "lt", "values": [18]}, {"age": 17}, True),
    ({"attribute": "age", "op": "lte", "values": [18]}, {"age": 18}, True),
    ({"attribute": "age", "op": "gt", "values": [18]}, {"age": "19.5"}, True),
    ({"attribute": "age", "op": "gte", "values": [18]}, {"age": "old"}, False),
    ({"attribute": "age", "op": "gte", "values": [18]}, {"age": True}, False),
    ({"attribute": "version", "op": "semver_gt", "values": ["1.2.3"]}, {"version": "1.10.0"}, True),
    (
        {"attribute": "version", "op": "semver_lt", "values": ["1.2.3"]},
        {"version": "1.2.3-rc.1"},
        True,
    ),
    (
        {"attribute": "version", "op": "semver_eq", "values": ["1.2.3"]},
        {"version": "1.2.3+build"},
        True,
    ),
    (
        {"attribute": "version", "op": "semver_gt", "values": ["1.0.0-alpha.1"]},
        {"version": "1.0.0-alpha.beta"},
        True,
    ),
    (
        {"attribute": "signup", "op": "after", "values": ["2026-01-01T00:00:00Z"]},
        {"signup": "2026-03-01T00:00:00+00:00"},
        True,
    ),
    (
        {"attribute": "signup", "op": "before", "values": ["2026-01-01"]},
        {"signup": datetime(2025, 5, 1, tzinfo=UTC)},
        True,
    ),
    ({"attribute": "signup", "op": "before", "values": [1767225600]}, {"signup": 1767225599}, True),
    ({"attribute": "ip", "op": "in_cidr", "values": ["10.0.0.0/8"]}, {"ip": "10.2.3.4"}, True),
    (
        {"attribute": "ip", "op": "in_cidr", "values": ["10.0.0.0/8", "::1/128"]},
        {"ip": "::1"},
        True,
    ),
    ({"attribute": "ip", "op": "in_cidr", "values": ["10.0.0.0/8"]}, {"ip": "not-an-ip"}, False),
    ({"attribute": "plan", "op": "exists"}, {"plan": "x"}, True),
    ({"attribute": "plan", "op": "exists"}, {}, False),
    ({"attribute": "plan", "op": "exists", "negate": True}, {}, True),
    ({"attribute": "plan", "op": "eq", "values": ["pro"], "negate": True}, {"plan": "free"}, True),
    ({"attribute": "plan", "op": "eq", "values": ["pro"], "negate": True}, {}, False),
    ({"attribute": "plan", "op": "eq", "value": "pro"}, {"plan": "pro"}, True),
    ({"attribute": "plan", "op": "in", "values": ["pro"]}, {"plan": {"unhashable": []}}, False),
    ({"attribute": "key", "op": "starts_with", "values": ["user-"]}, {}, True),
]


@pytest.mark.parametrize(
    ("condition", "attributes", "expected"), CASES, ids=[str(i) for i in range(len(CASES))]
)
def test_operator(condition: dict[str, Any], attributes: dict[str, Any], expected: bool) -> None:
    assert matches(condition, attributes) is expected


def test_an_anonymous_key_never_matches_a_key_condition() -> None:
    assert matches({"attribute": "key", "op": "starts_with", "values": [""]}, {}, key="") is False


def test_a_negated_segment_excludes_its_members() -> None:
    document = {
        "segments": {
            "internal": {
                "conditions": [{"attribute": "email", "op": "ends_with", "values": ["@acme.com"]}]
            }
        },
        "flags": {
            "f": {
                "default": "off",
                "rules": [
                    {
                        "when": [
                            {
                                "attribute": "email",
                                "op": "in_segment",
                                "values": ["internal"],
                                "negate": True,
                            }
                        ],
                        "serve": "on",
                    }
                ],
            }
        },
    }
    flags = FlagSet.from_dict(document)
    assert flags.is_enabled("f", Context(key="u", attributes={"email": "x@other.org"})) is True
    assert flags.is_enabled("f", Context(key="u", attributes={"email": "x@acme.com"})) is False
