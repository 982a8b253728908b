"""Unleash input that cannot be imported fails whole, naming the path; what Unleash itself
evaluates as "never matches" imports, never matches, and is listed in ``warnings``."""

from __future__ import annotations

from typing import Any

import pytest
from unleash_documents import constraint, document, feature, strategy, variant

from rheostat import Context, FlagSet, InvalidDefinition


def with_strategy(name: str, **fields: Any) -> dict[str, Any]:
    return document(feature("f", strategies=[strategy(name, **fields)]))


def with_constraint(**fields: Any) -> dict[str, Any]:
    return document(feature("f", strategies=[strategy(constraints=[fields])]))


def flexible(**parameters: Any) -> dict[str, Any]:
    return with_strategy("flexibleRollout", parameters=parameters)


F = 'features["f"]'
STRATEGY = f"{F}.strategies[0]"
CONSTRAINT = f"{STRATEGY}.constraints[0]"

REFUSED = [
    pytest.param([], "", id="not an object"),
    pytest.param({"version": 3, "features": []}, "version", id="unknown version"),
    pytest.param({"format": "native", "features": []}, "format", id="another format"),
    pytest.param({"version": 2, "features": {}}, "features", id="features not a list"),
    pytest.param(document({"enabled": True}), "features[0].name", id="feature without name"),
    pytest.param(document({"name": "f"}), f"{F}.enabled", id="feature without enabled"),
    pytest.param(document(feature("f"), feature("f")), F, id="feature defined twice"),
    pytest.param(with_strategy("companyId"), f"{STRATEGY}.name", id="custom strategy"),
    pytest.param(flexible(rollout="ten"), f"{STRATEGY}.parameters.rollout", id="rollout text"),
    pytest.param(flexible(rollout="101"), f"{STRATEGY}.parameters.rollout", id="rollout 101"),
    pytest.param(flexible(), f"{STRATEGY}.parameters.rollout", id="rollout missing"),
    pytest.param(
        with_strategy("gradualRolloutUserId", parameters={"percentage": "5"}),
        f"{STRATEGY}.parameters.groupId",
        id="gradual rollout without group",
    ),
    pytest.param(
        with_strategy("userWithId", parameters={}),
        f"{STRATEGY}.parameters.userIds",
        id="userWithId without ids",
    ),
    pytest.param(
        with_strategy("default", parameters=[]), f"{STRATEGY}.parameters", id="parameters list"
    ),
    pytest.param(
        with_strategy("default", disabled=True), f"{STRATEGY}.disabled", id="disabled strategy"
    ),
    pytest.param({"features": [], "events": []}, "events", id="features and events together"),
    pytest.param(
        with_constraint(operator="IN", values=["a"]),
        f"{CONSTRAINT}.contextName",
        id="constraint without field",
    ),
    pytest.param(
        with_constraint(**constraint("age", "NUM_GT", value="twelve")),
        f"{CONSTRAINT}.value",
        id="number that is not one",
    ),
    pytest.param(
        with_constraint(**constraint("age", "NUM_EQ", values=["12"])),
        f"{CONSTRAINT}.value",
        id="number operator without value",
    ),
    pytest.param(
        with_constraint(**constraint("currentTime", "DATE_AFTER", value="yesterday")),
        f"{CONSTRAINT}.value",
        id="date that is not one",
    ),
    pytest.param(
        with_constraint(**constraint("currentTime", "DATE_AFTER", value="2024-01-01T00:00:00")),
        f"{CONSTRAINT}.value",
        id="date without time zone",
    ),
    pytest.param(
        with_constraint(**constraint("version", "SEMVER_GT", value="1.2")),
        f"{CONSTRAINT}.value",
        id="version that is not semver",
    ),
    pytest.param(
        with_constraint(**constraint("userId", "REGEX", value=r"^\p{Greek}+$")),
        f"{CONSTRAINT}.value",
        id="regex with unicode classes",
    ),
    pytest.param(
        with_constraint(**constraint("userId", "REGEX", value="[a-z&&[^aeiou]]")),
        f"{CONSTRAINT}.value",
        id="regex with class set operations",
    ),
    pytest.param(
        with_constraint(**constraint("userId", "REGEX", value="^[[:^digit:]]$")),
        f"{CONSTRAINT}.value",
        id="regex with a negated POSIX class",
    ),
    pytest.param(
        with_constraint(**constraint("userId", "IN", values=[1])),
        f"{CONSTRAINT}.values[0]",
        id="value that is not a string",
    ),
    pytest.param(
        with_constraint(**constraint("userId", "IN", values=["1"], inverted="yes")),
        f"{CONSTRAINT}.inverted",
        id="inverted not a boolean",
    ),
    pytest.param(
        document(feature("f", variants=[variant("a", weight=-1)])),
        f"{F}.variants[0].weight",
        id="negative weight",
    ),
    pytest.param(
        document(feature("f", variants=[variant("a", payload={"type": "number", "value": 1})])),
        f"{F}.variants[0].payload.value",
        id="payload value not a string",
    ),
    pytest.param(
        document(segments=[{"id": 1, "constraints": []}, {"id": 1, "constraints": []}]),
        "segments[1].id",
        id="segment defined twice",
    ),
    pytest.param(
        with_strategy("default", segments=["pilot"]),
        f"{STRATEGY}.segments[0]",
        id="segment named, not numbered",
    ),
    pytest.param(
        document(feature("f", dependencies=[{"enabled": True}])),
        f"{F}.dependencies[0].feature",
        id="dependency without parent",
    ),
]


@pytest.mark.parametrize(("raw", "path"), REFUSED)
def test_input_that_cannot_be_imported_is_refused_with_its_path(raw: Any, path: str) -> None:
    # Given
    unleash_document = raw

    # When
    with pytest.raises(InvalidDefinition) as raised:
        FlagSet.from_unleash(unleash_document)

    # Then
    assert raised.value.path == path
    assert raised.value.reason


def test_a_refused_custom_strategy_names_the_feature_and_the_strategy() -> None:
    # Given
    raw = with_strategy("companyId")

    # When
    with pytest.raises(InvalidDefinition) as raised:
        FlagSet.from_unleash(raw)

    # Then
    assert str(raised.value).startswith('features["f"].strategies[0].name: ')
    assert "'companyId'" in str(raised.value)


NEVER_MATCHING = [
    pytest.param(
        with_constraint(**constraint("x", "NOT_A_VALID_OPERATOR", value="1", inverted=True)),
        {"properties": {"x": "1"}},
        f"{CONSTRAINT}.operator",
        id="unknown operator",
    ),
    pytest.param(
        with_constraint(**constraint("version", "SEMVER_EQ", value="v1.0.0", inverted=True)),
        {"properties": {"version": "1.0.0"}},
        f"{CONSTRAINT}.value",
        id="version with a leading v",
    ),
    pytest.param(
        with_constraint(**constraint("userId", "REGEX", value="^(a)\\1$", inverted=True)),
        {"userId": "aa"},
        f"{CONSTRAINT}.value",
        id="regex with a backreference",
    ),
    pytest.param(
        with_strategy("default", segments=[404]),
        {},
        f"{STRATEGY}.segments[0]",
        id="missing segment",
    ),
    pytest.param(
        document(feature("f", dependencies=[{"feature": "absent"}])),
        {},
        f"{F}.dependencies[0].feature",
        id="missing parent",
    ),
    pytest.param(
        document(
            feature("f", dependencies=[{"feature": "parent"}]),
            feature("parent", dependencies=[{"feature": "grandparent"}]),
            feature("grandparent"),
        ),
        {},
        f"{F}.dependencies[0].feature",
        id="transitive dependency",
    ),
]


@pytest.mark.parametrize(("raw", "unleash_context", "path"), NEVER_MATCHING)
def test_what_unleash_never_matches_imports_with_a_warning(
    raw: dict[str, Any], unleash_context: dict[str, Any], path: str
) -> None:
    # Given
    flags = FlagSet.from_unleash(raw)

    # When
    enabled = flags.is_enabled("f", Context.from_unleash(unleash_context))

    # Then
    assert enabled is False
    assert path in [warning["path"] for warning in flags.to_dict()["warnings"]]


def test_invalid_addresses_are_skipped_with_a_warning() -> None:
    # Given
    raw = with_strategy("remoteAddress", parameters={"IPs": "10.0.0.0/8, not-an-ip"})

    # When
    flags = FlagSet.from_unleash(raw)

    # Then
    assert flags.is_enabled("f", Context.from_unleash({"remoteAddress": "10.1.2.3"})) is True
    warnings = flags.to_dict()["warnings"]
    assert [warning["path"] for warning in warnings] == [f"{STRATEGY}.parameters.IPs[1]"]


def test_variants_that_all_weigh_nothing_are_never_served() -> None:
    # Given
    raw = document(feature("f", variants=[variant("a", weight=0), variant("b", weight=0)]))

    # When
    flags = FlagSet.from_unleash(raw)

    # Then
    assert flags.variant("f", Context(key="u1")).to_unleash() == {
        "name": "disabled",
        "enabled": False,
        "feature_enabled": True,
    }
    assert flags.to_dict()["warnings"][0]["path"] == f"{F}.variants"


def test_a_clean_document_has_no_warnings() -> None:
    # Given
    raw = document(feature("f"))

    # When
    flags = FlagSet.from_unleash(raw)

    # Then
    assert flags.to_dict()["warnings"] == []
