"""Edges of the native engine: refused definitions, operator corners, targets and the seam."""

from __future__ import annotations

from typing import Any

import pytest

from rheostat import Context, ErrorCode, FlagSet, InvalidDefinition, Reason
from rheostat.flags.formats.native import compile_document
from rheostat.flags.formats.unleash import compile_unleash
from rheostat.flags.model import Operator
from rheostat.flags.operators import MATCHERS_BY_OPERATOR
from rheostat.flags.overrides import KilledFlag


def flag(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"variants": {"on": True, "off": False}, "default": "off"}
    body.update(fields)
    return {"flags": {"f": body}}


def when(*conditions: dict[str, Any]) -> dict[str, Any]:
    """A flag serving ``on`` to contexts that meet every condition, else ``off``."""
    return flag(rules=[{"when": list(conditions), "serve": "on"}])


def nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


REFUSED = [
    pytest.param(
        when({"attribute": "plan", "op": "eq", "value": "pro", "values": ["pro"]}),
        "flags.f.rules[0].when[0].value",
        "either value or values",
        id="value and values",
    ),
    pytest.param(
        when({"attribute": "plan", "op": "in", "values": "pro"}),
        "flags.f.rules[0].when[0].values",
        "must be a list, got str",
        id="values not a list",
    ),
    pytest.param(
        when({"attribute": "plan", "op": "in", "values": [["pro"]]}),
        "flags.f.rules[0].when[0].values[0]",
        "must be a string, number or boolean",
        id="a list among values",
    ),
    pytest.param(
        when({"attribute": "seats", "op": "gte", "values": ["ten"]}),
        "flags.f.rules[0].when[0].values",
        "needs a number, got 'ten'",
        id="a comparison with a word",
    ),
    pytest.param(
        when({"attribute": "plan", "op": "in", "values": []}),
        "flags.f.rules[0].when[0].values",
        "operator in needs values",
        id="no values",
    ),
    pytest.param(
        when({"attribute": "plan", "op": "starts_with", "values": [5]}),
        "flags.f.rules[0].when[0].values",
        "values must be strings, got 5",
        id="a text operator with a number",
    ),
    pytest.param(
        ["not", "a", "mapping"],
        "",
        "a flag document must be a mapping",
        id="a list for a document",
    ),
    pytest.param(
        when({"attribute": "", "op": "exists"}),
        "flags.f.rules[0].when[0].attribute",
        "must be a non-empty string, got ''",
        id="empty attribute",
    ),
    pytest.param(
        flag(targets=[{"variant": "on", "keys": ["user-1", 2]}]),
        "flags.f.targets[0].keys[1]",
        "must be a string, got 2",
        id="a target key that is a number",
    ),
    pytest.param(
        flag(description=5),
        "flags.f.description",
        "must be a string, got 5",
        id="description not text",
    ),
    pytest.param(
        flag(variants={}),
        "flags.f.variants",
        "at least one variant",
        id="no variants",
    ),
    pytest.param(
        flag(variants={"on": float("nan"), "off": 0}),
        "flags.f.variants.on",
        "must be JSON data",
        id="a NaN variant value",
    ),
    pytest.param(
        {"flags": {"f": {"variants": {"a": 1, "b": 2}}}},
        "flags.f.default",
        "missing: name the variant served by default",
        id="variants without a default",
    ),
    pytest.param(
        flag(version=-1),
        "flags.f.version",
        "non-negative integer, got -1",
        id="negative version",
    ),
    pytest.param(
        flag(version=True),
        "flags.f.version",
        "non-negative integer, got True",
        id="boolean version",
    ),
    pytest.param(
        {
            "flags": {
                "parent": {"default": "on"},
                "f": {"default": "off", "prerequisites": [{"flag": "parent", "variants": []}]},
            }
        },
        "flags.f.prerequisites[0].variants",
        "name at least one variant",
        id="prerequisite without variants",
    ),
    pytest.param(
        flag(rules=[{"name": "pilot"}]),
        "flags.f.rules[0].serve",
        "missing: a variant name or a split",
        id="rule without serve",
    ),
    pytest.param(
        {
            "segments": {
                "pilot": {"conditions": [{"attribute": "org", "op": "eq", "values": ["o1"]}]},
                "wider": {"conditions": [{"attribute": "k", "op": "in_segment", "values": ["x"]}]},
            }
        },
        "segments.wider.conditions[0].op",
        "segments cannot contain segments",
        id="segment inside a segment",
    ),
    pytest.param(
        flag(variants={"on": nested(100_000), "off": []}),
        "",
        "malformed document",
        id="a payload nested too deep",
    ),
]


@pytest.mark.parametrize(("document", "path", "reason"), REFUSED)
def test_a_refused_definition_names_the_field(document: Any, path: str, reason: str) -> None:
    # Given a document with one bad field

    # When it is loaded
    with pytest.raises(InvalidDefinition) as raised:
        FlagSet.from_dict(document)

    # Then the error names the field and says what is wrong
    assert raised.value.path == path
    assert reason in raised.value.reason


ODD_VALUES = [
    pytest.param({"attribute": "plan", "op": "starts_with", "values": ["4"]}, 42, id="starts_with"),
    pytest.param({"attribute": "plan", "op": "contains", "values": ["2"]}, 42, id="contains"),
    pytest.param({"attribute": "seats", "op": "gt", "values": [1]}, {"n": 5}, id="gt a mapping"),
    pytest.param(
        {"attribute": "signup", "op": "before", "values": ["2030-01-01"]},
        {"at": "2020-01-01"},
        id="before a mapping",
    ),
    pytest.param(
        {"attribute": "signup", "op": "after", "values": ["2020-01-01"]},
        "next tuesday",
        id="after an unreadable date",
    ),
    pytest.param(
        {"attribute": "ip", "op": "in_cidr", "values": ["10.0.0.0/8"]}, 167772161, id="in_cidr int"
    ),
]


@pytest.mark.parametrize(("condition", "value"), ODD_VALUES)
def test_an_attribute_of_the_wrong_type_does_not_match(
    condition: dict[str, Any], value: Any
) -> None:
    # Given a rule testing an attribute
    flags = FlagSet.from_dict(when(condition))

    # When the context holds a value the operator cannot read
    evaluation = flags.evaluate("f", Context(key="u", attributes={condition["attribute"]: value}))

    # Then the rule does not match, and nothing raises
    assert (evaluation.value, evaluation.reason) == (False, Reason.DEFAULT)


def test_a_membership_operator_built_directly_refuses_a_list_value() -> None:
    # Given the operator table that compiles conditions
    build_in = MATCHERS_BY_OPERATOR[Operator.IN]

    # When it is given a list among its values
    with pytest.raises(ValueError, match="values must be scalars") as raised:
        build_in(["pro", ["team"]], False)

    # Then the reason is readable, as the document parser would report it
    assert "strings, numbers or booleans" in str(raised.value)


def test_a_key_no_operator_can_read_does_not_match() -> None:
    # Given a rule comparing the key as a semantic version
    flags = FlagSet.from_dict(when({"attribute": "key", "op": "semver_gt", "values": ["1.0.0"]}))

    # When the key is a version with more digits than Python will turn into an int
    evaluation = flags.evaluate("f", Context(key="9" * 5000 + ".0.0"))

    # Then the rule does not match instead of raising
    assert evaluation.reason is Reason.DEFAULT


def test_exists_on_the_key_tells_known_users_from_anonymous_ones() -> None:
    # Given a rule for contexts that have a key
    flags = FlagSet.from_dict(when({"attribute": "key", "op": "exists"}))

    # When a known and an anonymous user ask
    known = flags.is_enabled("f", Context(key="user-1"))
    anonymous = flags.is_enabled("f", Context())

    # Then only the known user matches
    assert (known, anonymous) == (True, False)


def test_a_single_group_name_reaches_a_group_target() -> None:
    # Given a target for the staff group
    flags = FlagSet.from_dict(flag(targets=[{"variant": "on", "groups": ["staff"]}]))

    # When the context gives its group as one string rather than a list
    evaluation = flags.evaluate("f", Context(key="u", attributes={"groups": "staff"}))

    # Then the target applies
    assert (evaluation.value, evaluation.reason) == (True, Reason.TARGETING_MATCH)


def test_groups_outside_every_target_fall_through_to_the_rules() -> None:
    # Given a group target and a rule for everyone else
    flags = FlagSet.from_dict(
        flag(targets=[{"variant": "on", "groups": ["staff"]}], rules=[{"serve": "off"}])
    )

    # When the context is in other groups only, or gives groups as a number
    other = flags.evaluate("f", Context(key="u", attributes={"groups": ["sales", 7]}))
    odd = flags.evaluate("f", Context(key="u", attributes={"groups": 7}))

    # Then the rules decide
    assert (other.value, other.reason) == (False, Reason.TARGETING_MATCH)
    assert other.variant == "off"
    assert (odd.value, odd.reason) == (False, Reason.TARGETING_MATCH)


def test_number_and_json_payloads_render_as_unleash_variants() -> None:
    # Given a number flag and a JSON flag
    flags = FlagSet.from_dict(
        {
            "flags": {
                "limit": {"variants": {"low": 10, "high": 2.5}, "default": "high"},
                "layout": {"variants": {"grid": {"columns": 3}}, "default": "grid"},
            }
        }
    )

    # When their variants are rendered for an Unleash SDK
    limit = flags.variant("limit", Context(key="u")).to_unleash()
    layout = flags.variant("layout", Context(key="u")).to_unleash()

    # Then numbers travel as text and JSON as compact JSON text
    assert limit["payload"] == {"type": "number", "value": "2.5"}
    assert layout["payload"] == {"type": "json", "value": '{"columns":3}'}


def test_a_targeted_flag_answers_a_default_of_another_type_with_type_mismatch() -> None:
    # Given a bool flag with a rule
    flags = FlagSet.from_dict(when({"attribute": "plan", "op": "eq", "value": "pro"}))

    # When the caller's default is text
    evaluation = flags.evaluate("f", Context(key="u", attributes={"plan": "pro"}), default="on")

    # Then the caller gets the default back, marked as a type mismatch
    assert (evaluation.value, evaluation.reason) == ("on", Reason.ERROR)
    assert evaluation.error_code is ErrorCode.TYPE_MISMATCH


def test_a_flag_set_iterates_its_keys_in_order() -> None:
    # Given flags defined out of order
    flags = FlagSet.from_dict({"flags": {"zeta": {}, "alpha": {}, "mid": {}}})

    # When the set is iterated
    keys = list(flags)

    # Then the keys come sorted
    assert keys == ["alpha", "mid", "zeta"]


def test_an_unhashable_key_gets_the_default_from_every_method(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given production behaviour: internal errors are logged and answered with the default
    monkeypatch.setattr(FlagSet, "strict", False)
    flags = FlagSet.from_dict({"flags": {"f": {"default": "on"}}})
    key: Any = ["f"]

    # When the caller passes a list as the flag key
    evaluation = flags.evaluate(key, Context(key="u"), default=False)
    variant = flags.variant(key, Context(key="u"))

    # Then evaluate answers the caller's default with GENERAL and variant answers disabled
    assert (evaluation.value, evaluation.error_code) == (False, ErrorCode.GENERAL)
    assert (variant.name, variant.enabled) == ("disabled", False)


def test_strict_mode_re_raises_an_internal_error() -> None:
    # Given the test suite's strict mode (set for every test by conftest)
    flags = FlagSet.from_dict({"flags": {"f": {"default": "on"}}})
    key: Any = ["f"]

    # When an evaluation fails inside the engine
    # Then the error surfaces instead of a quiet default
    with pytest.raises(TypeError, match="unhashable"):
        flags.evaluate(key, Context(key="u"))


def test_compiled_native_flags_keep_their_key_version_and_answers() -> None:
    # Given a static flag and a targeted one, both versioned
    compiled, _ = compile_document(
        {
            "flags": {
                "static": {"default": "on", "version": 3},
                "targeted": {
                    "default": "off",
                    "version": 4,
                    "targets": [{"variant": "on", "keys": ["u1"]}],
                },
            }
        }
    )

    # When the compiled flags are asked directly, as a format's seam
    static, targeted = compiled["static"], compiled["targeted"]

    # Then each names itself and answers as the FlagSet does
    assert (static.key, static.version, static.is_enabled(Context(key="x"))) == ("static", 3, True)
    assert (targeted.key, targeted.version) == ("targeted", 4)
    assert targeted.is_enabled(Context(key="u1")) is True
    assert targeted.is_enabled(Context(key="u2")) is False


def test_a_killed_imported_flag_is_off_for_everyone_and_keeps_its_identity() -> None:
    # Given an Unleash flag that is on for everyone
    document = {"version": 2, "features": [{"name": "f", "enabled": True, "strategies": []}]}
    compiled, _ = compile_unleash(document)

    # When it is killed
    killed = KilledFlag(compiled["f"])
    flags = FlagSet.from_unleash(document).with_overrides({"RHEOSTAT_KILL_F": "1"})

    # Then it keeps its key and version, and serves the disabled variant
    assert (killed.key, killed.version) == ("f", None)
    assert flags.variant("f", Context(key="u")).to_unleash() == {
        "name": "disabled",
        "enabled": False,
        "feature_enabled": False,
    }
