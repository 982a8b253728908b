"""Regressions from the engine review: each case once turned an answer into an error or a lie."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from rheostat import ConfigurationError, Context, FlagSet, InvalidDefinition, Reason


def split_after_rule(condition: dict[str, Any]) -> FlagSet:
    return FlagSet.from_dict(
        {
            "flags": {
                "promo": {
                    "default": "off",
                    "rules": [
                        {"when": [condition], "serve": "on"},
                        {"serve": {"split": {"on": 50, "off": 50}}},
                    ],
                }
            }
        }
    )


@pytest.mark.parametrize(
    ("condition", "value"),
    [
        ({"attribute": "signup", "op": "after", "values": ["2024-01-01"]}, 1_717_000_000_000_000),
        ({"attribute": "signup", "op": "after", "values": ["2024-01-01"]}, float("nan")),
        ({"attribute": "age", "op": "gt", "values": [3]}, 10**400),
        ({"attribute": "v", "op": "semver_gt", "values": ["1.0.0"]}, "1" * 5000 + ".0.0"),
    ],
)
def test_an_unreadable_attribute_value_is_no_match_not_an_error(
    condition: dict[str, Any], value: Any
) -> None:
    evaluation = split_after_rule(condition).evaluate(
        "promo", Context(key="u1", attributes={condition["attribute"]: value})
    )
    assert evaluation.reason is Reason.SPLIT


@pytest.mark.parametrize(
    ("document", "path"),
    [
        ({"flags": {"f": {"default": "off", "hash_version": [1]}}}, "flags.f.hash_version"),
        (
            {
                "flags": {
                    "f": {
                        "default": "off",
                        "rules": [{"serve": {"split": {"on": 10**400, "off": 0}}}],
                    }
                }
            },
            "flags.f.rules[0].serve.split.on",
        ),
        (
            {
                "flags": {
                    "f": {
                        "default": "off",
                        "rules": [
                            {
                                "when": [{"attribute": "a", "op": "lt", "values": [10**400]}],
                                "serve": "on",
                            }
                        ],
                    }
                }
            },
            "flags.f.rules[0].when[0].values",
        ),
        (
            {
                "segments": {"s": {"conditions": []}},
                "flags": {
                    "f": {
                        "default": "off",
                        "rules": [
                            {
                                "when": [{"attribute": "a", "op": "in_segment", "values": [["s"]]}],
                                "serve": "on",
                            }
                        ],
                    }
                },
            },
            "flags.f.rules[0].when[0].values[0]",
        ),
        ({1: "x", "flags": {}}, "document"),
    ],
)
def test_malformed_values_are_refused_with_their_path(document: dict[Any, Any], path: str) -> None:
    with pytest.raises(InvalidDefinition) as caught:
        FlagSet.from_dict(document)
    assert caught.value.path == path


def test_an_unquoted_yaml_timestamp_round_trips_as_iso_text() -> None:
    document = yaml.safe_load(
        "flags: {f: {default: 'off', rules: [{serve: 'on', when: [\n"
        "  {attribute: at, op: after, values: [2024-01-01T00:00:00Z]}]}]}}"
    )
    flags = FlagSet.from_dict(document)
    assert flags.to_dict()["flags"]["f"]["rules"][0]["when"][0]["values"] == [
        "2024-01-01T00:00:00+00:00"
    ]
    assert flags.is_enabled("f", Context(key="u", attributes={"at": "2025-05-01T00:00:00Z"}))


def test_the_set_does_not_share_payloads_with_its_input() -> None:
    document: dict[str, Any] = {
        "flags": {"limits": {"variants": {"a": {"rate": 5}}, "default": "a"}}
    }
    flags = FlagSet.from_dict(document)
    document["flags"]["limits"]["variants"]["a"]["rate"] = 99
    assert flags.evaluate("limits", Context(key="u")).value == {"rate": 5}


def test_an_environment_kill_reaches_flags_that_need_it() -> None:
    flags = FlagSet.from_dict(
        {
            "flags": {
                "payments-v2": {"default": "on", "variants": {"on": True, "off": False}},
                "new-checkout": {
                    "default": "off",
                    "prerequisites": [{"flag": "payments-v2", "variants": ["on"]}],
                    "rules": [{"serve": "on"}],
                },
            }
        }
    )
    killed = flags.with_overrides({"RHEOSTAT_KILL_PAYMENTS_V2": "1"})
    assert killed.evaluate("payments-v2", Context(key="u")).reason is Reason.OVERRIDE
    assert killed.evaluate("new-checkout", Context(key="u")).reason is Reason.PREREQUISITE_FAILED


def test_an_environment_kill_applies_to_unleash_imports() -> None:
    flags = FlagSet.from_unleash(
        {
            "version": 1,
            "features": [
                {"name": "new-checkout", "enabled": True, "strategies": [{"name": "default"}]}
            ],
        }
    )
    killed = flags.with_overrides({"RHEOSTAT_KILL_NEW_CHECKOUT": "1"})
    assert killed.is_enabled("new-checkout", Context(key="u")) is False
    assert killed.evaluate("new-checkout", Context(key="u")).reason is Reason.OVERRIDE
    with pytest.raises(ConfigurationError, match="can only be killed"):
        flags.with_overrides({"RHEOSTAT_FLAG_NEW_CHECKOUT": "x"})


def test_an_override_matching_two_flags_is_refused() -> None:
    flags = FlagSet.from_dict(
        {"flags": {"new-checkout": {"default": "off"}, "new_checkout": {"default": "off"}}}
    )
    with pytest.raises(ConfigurationError, match="matches two flags"):
        flags.with_overrides({"RHEOSTAT_KILL_NEW_CHECKOUT": "1"})


def test_default_types_json_takes_any_json_and_number_refuses_bool() -> None:
    flags = FlagSet.from_dict(
        {
            "flags": {
                "mixed": {"variants": {"small": 10, "big": "unlimited"}, "default": "small"},
                "limit": {"variants": {"low": 10}, "default": "low"},
            }
        }
    )
    assert flags.evaluate("mixed", Context(key="u"), default=10).reason is Reason.STATIC
    assert flags.evaluate("limit", Context(key="u"), default=True).reason is Reason.ERROR


def test_an_ipv4_mapped_address_is_in_its_ipv4_network() -> None:
    flags = split_after_rule({"attribute": "ip", "op": "in_cidr", "values": ["10.0.0.0/8"]})
    evaluation = flags.evaluate("promo", Context(key="u", attributes={"ip": "::ffff:10.1.2.3"}))
    assert evaluation.reason is Reason.TARGETING_MATCH


def test_an_unhashable_flag_key_gets_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FlagSet, "strict", False)  # production behaviour: log, serve the default
    flags = FlagSet.from_dict({"flags": {"f": {"default": "on"}}})
    assert flags.is_enabled(["f"], Context(key="u")) is False  # type: ignore[arg-type]
