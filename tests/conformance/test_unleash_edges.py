"""Edges of the Unleash import: regex translation, odd context values, payloads, delta state."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import pytest
from unleash_documents import constraint, document, feature, strategy, variant

from rheostat import Context, ErrorCode, FlagSet, InvalidDefinition, Reason

F = 'features["f"]'
CONSTRAINT = f"{F}.strategies[0].constraints[0]"


def only(*constraints: dict[str, Any]) -> FlagSet:
    """A feature on for contexts that meet every constraint."""
    return FlagSet.from_unleash(
        document(feature("f", strategies=[strategy(constraints=list(constraints))]))
    )


def regex(pattern: str) -> FlagSet:
    return only(constraint("userId", "REGEX", value=pattern))


# Regex translation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "user_id", "expected"),
    [
        pytest.param("^a{2}?$", "aa", True, id="lazy counted repetition"),
        pytest.param("(?i:ab)c", "ABc", True, id="scoped flag inside its group"),
        pytest.param("^(?i:ab)c$", "ABC", False, id="scoped flag not after its group"),
        pytest.param("^[]a]$", "]", True, id="a leading ] is literal in a class"),
        pytest.param("^[\\d]$", "7", True, id="an escape inside a class"),
        pytest.param("^[a&b]$", "&", True, id="a single & in a class is literal"),
        pytest.param("^[a&b]$", "c", False, id="and nothing else"),
    ],
)
def test_accepted_regexes_match_as_in_unleash(pattern: str, user_id: str, expected: bool) -> None:
    # Given a REGEX constraint on the user id
    flags = regex(pattern)

    # When a user asks
    enabled = flags.is_enabled("f", Context(key=user_id))

    # Then the answer is Unleash's
    assert enabled is expected


@pytest.mark.parametrize(
    "pattern",
    [
        pytest.param("a{3,2}", id="a repetition range that runs backwards"),
        pytest.param("a{", id="a brace that opens no repetition"),
        pytest.param("(?<1>a)", id="a group name starting with a digit"),
        pytest.param("a)", id="an unopened group"),
        pytest.param("a\\", id="a trailing backslash"),
        pytest.param("[abc", id="an unclosed class"),
    ],
)
def test_regexes_unleash_rejects_never_match_and_warn(pattern: str) -> None:
    # Given a REGEX constraint Unleash's engine refuses to compile
    flags = regex(pattern)

    # When any user asks, even one the text would seem to match
    enabled = flags.is_enabled("f", Context(key="aaa)[abc{"))

    # Then the constraint never matches, and the import says so
    assert enabled is False
    warnings = flags.to_dict()["warnings"]
    assert [warning["path"] for warning in warnings] == [f"{CONSTRAINT}.value"]
    assert "never matches" in warnings[0]["reason"]


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        pytest.param("(?x)a b", "(?x)", id="verbose flag"),
        pytest.param("(?-u)a", "ASCII-only", id="ASCII-only flag"),
        pytest.param("[[a]]", "nested character classes", id="nested class"),
        pytest.param("^[[:vowel:]]$", "[:vowel:] is not a POSIX class", id="unknown POSIX name"),
    ],
)
def test_regexes_python_cannot_reproduce_are_refused_with_the_path(
    pattern: str, reason: str
) -> None:
    # Given a REGEX Unleash accepts but Python's re cannot express
    raw = document(
        feature(
            "f", strategies=[strategy(constraints=[constraint("userId", "REGEX", value=pattern)])]
        )
    )

    # When it is imported
    with pytest.raises(InvalidDefinition) as raised:
        FlagSet.from_unleash(raw)

    # Then the import fails, naming the constraint's value and why
    assert raised.value.path == f"{CONSTRAINT}.value"
    assert reason in raised.value.reason


# Context values ------------------------------------------------------------------------------


class Plan(StrEnum):
    PRO = "pro"


def test_a_string_enum_attribute_is_read_as_its_text() -> None:
    # Given a constraint on the plan property
    flags = only(constraint("plan", "IN", values=["pro"]))

    # When the context holds a StrEnum member
    enabled = flags.is_enabled("f", Context(attributes={"plan": Plan.PRO}))

    # Then its value is compared, as Unleash would see the string
    assert enabled is True


def test_a_list_attribute_counts_as_missing() -> None:
    # Given IN and NOT_IN constraints on the plan property
    is_in = only(constraint("plan", "IN", values=["pro"]))
    not_in = only(constraint("plan", "NOT_IN", values=["pro"]))
    context = Context(attributes={"plan": ["pro"]})

    # When the context holds a list, which an Unleash context cannot
    answers = (is_in.is_enabled("f", context), not_in.is_enabled("f", context))

    # Then the field is missing: IN fails and NOT_IN passes
    assert answers == (False, True)


@pytest.mark.parametrize(
    ("flags", "attributes"),
    [
        pytest.param(only(constraint("email", "STR_CONTAINS", values=["@"])), {}, id="text"),
        pytest.param(only(constraint("seats", "NUM_GT", value="1")), {}, id="number"),
        pytest.param(
            only(constraint("seats", "NUM_GT", value="1")), {"seats": " 5"}, id="padded number"
        ),
        pytest.param(
            only(constraint("seats", "NUM_GT", value="1")), {"seats": "five"}, id="not a number"
        ),
        pytest.param(
            only(constraint("seats", "NUM_GT", value="1")), {"seats": "1_000"}, id="underscores"
        ),
        pytest.param(
            only(constraint("remoteAddress", "IN_CIDR", values=["10.0.0.0/8"])),
            {"remoteAddress": "localhost"},
            id="not an address",
        ),
    ],
)
def test_a_missing_or_unreadable_field_fails_the_constraint(
    flags: FlagSet, attributes: dict[str, Any]
) -> None:
    # Given a constraint on a context field

    # When the field is absent or cannot be read as the operator needs
    enabled = flags.is_enabled("f", Context(key="u", attributes=attributes))

    # Then the constraint fails, as in Unleash
    assert enabled is False


# Strategies ----------------------------------------------------------------------------------


def test_random_stickiness_follows_the_session() -> None:
    # Given a 50% rollout with random stickiness
    rollout = strategy("flexibleRollout", parameters={"rollout": "50", "stickiness": "random"})
    flags = FlagSet.from_unleash(document(feature("f", strategies=[rollout])))
    sessions = [f"session-{number}" for number in range(40)]

    # When two users share each session
    first = [flags.is_enabled("f", Context(key="a", attributes={"sessionId": s})) for s in sessions]
    second = [
        flags.is_enabled("f", Context(key="b", attributes={"sessionId": s})) for s in sessions
    ]

    # Then the session decides (the stand-in for Unleash's random draw), and it splits
    assert first == second
    assert True in first
    assert False in first


@pytest.mark.parametrize(("rollout", "expected"), [(100, True), (0, False)])
def test_a_rollout_given_as_a_number_is_a_percentage(rollout: int, expected: bool) -> None:
    # Given a flexible rollout whose percentage is a JSON number, not text
    flexible = strategy("flexibleRollout", parameters={"rollout": rollout})
    flags = FlagSet.from_unleash(document(feature("f", strategies=[flexible])))

    # When a user asks
    enabled = flags.is_enabled("f", Context(key="u"))

    # Then the number is read as the percentage
    assert enabled is expected


def test_a_parameter_that_is_not_text_is_refused_with_its_path() -> None:
    # Given a stickiness given as a number
    flexible = strategy("flexibleRollout", parameters={"rollout": "50", "stickiness": 5})

    # When the document is imported
    with pytest.raises(InvalidDefinition) as raised:
        FlagSet.from_unleash(document(feature("f", strategies=[flexible])))

    # Then the parameter is named
    assert raised.value.path == f"{F}.strategies[0].parameters.stickiness"
    assert raised.value.reason == "expected a string"


# Variants ------------------------------------------------------------------------------------


def test_evaluate_serves_the_default_when_no_variant_weighs_anything() -> None:
    # Given a feature that is on but whose variants all weigh 0
    flags = FlagSet.from_unleash(
        document(feature("f", variants=[variant("a", weight=0), variant("b", weight=0)]))
    )

    # When it is evaluated as a typed flag
    evaluation = flags.evaluate("f", Context(key="u"), default="fallback")

    # Then the caller's default comes back under the disabled variant
    assert (evaluation.value, evaluation.variant) == ("fallback", "disabled")
    assert evaluation.reason is Reason.TARGETING_MATCH


@pytest.mark.parametrize(
    ("payload", "default"),
    [
        pytest.param({"type": "number", "value": "lots"}, 0, id="number payload not a number"),
        pytest.param({"type": "json", "value": "{broken"}, {}, id="json payload not JSON"),
    ],
)
def test_a_payload_that_does_not_parse_is_a_type_mismatch(
    payload: dict[str, str], default: Any
) -> None:
    # Given a variant whose payload does not hold what its type says
    flags = FlagSet.from_unleash(document(feature("f", variants=[variant("a", payload=payload)])))

    # When it is evaluated with a default of that type
    evaluation = flags.evaluate("f", Context(key="u"), default=default)

    # Then the caller gets the default with TYPE_MISMATCH, and the text is still served as text
    assert (evaluation.value, evaluation.error_code) == (default, ErrorCode.TYPE_MISMATCH)
    assert flags.evaluate("f", Context(key="u"), default="").value == payload["value"]


# Documents and deltas ------------------------------------------------------------------------


def test_a_document_without_a_version_is_read_as_version_2() -> None:
    # Given a features document that names no version
    raw = {"features": [feature("f")]}

    # When it is imported
    flags = FlagSet.from_unleash(raw)

    # Then it is a version 2 document
    assert flags.to_dict()["version"] == 2
    assert flags.is_enabled("f", Context()) is True


@pytest.mark.parametrize(
    ("segment_id", "kind"),
    [("1", 'the string "1"'), (True, "the boolean true")],
)
def test_a_segment_id_that_is_not_an_integer_is_refused(segment_id: Any, kind: str) -> None:
    # Given a segment whose id is text or a boolean
    raw = document(feature("f"), segments=[{"id": segment_id, "constraints": []}])

    # When the document is imported
    with pytest.raises(InvalidDefinition) as raised:
        FlagSet.from_unleash(raw)

    # Then the id is named, with what it was
    assert raised.value.path == "segments[0].id"
    assert raised.value.reason == f"expected an integer, got {kind}"


def test_a_value_json_cannot_carry_is_refused() -> None:
    # Given a feature carrying a field the import ignores, holding NaN
    raw = document(feature("f", impressionData=float("nan")))

    # When the document is imported
    with pytest.raises(InvalidDefinition) as raised:
        FlagSet.from_unleash(raw)

    # Then the canonical copy cannot be made, and the features are named
    assert raised.value.path == "features"
    assert "not JSON-serialisable" in raised.value.reason


@pytest.mark.parametrize(
    ("hydration", "path", "reason"),
    [
        pytest.param(
            {"type": "hydration", "features": [feature("a"), feature("a")], "segments": []},
            "events[0].features[1].name",
            "feature 'a' appears twice",
            id="feature twice",
        ),
        pytest.param(
            {"type": "hydration", "features": [], "segments": [{"id": 1}, {"id": 1}]},
            "events[0].segments[1].id",
            "segment 1 appears twice",
            id="segment twice",
        ),
    ],
)
def test_a_hydration_naming_something_twice_is_refused(
    hydration: dict[str, Any], path: str, reason: str
) -> None:
    # Given a hydration event that lists one feature or segment twice

    # When it is imported
    with pytest.raises(InvalidDefinition) as raised:
        FlagSet.from_unleash(hydration)

    # Then the second one is named
    assert raised.value.path == path
    assert raised.value.reason == reason


def test_an_event_without_an_id_keeps_the_last_event_id() -> None:
    # Given a set imported at event 41
    flags = FlagSet.from_unleash({**document(feature("a", enabled=False)), "eventId": 41})

    # When an event without an id is applied
    after = flags.apply_unleash_delta([{"type": "feature-updated", "feature": feature("a")}])

    # Then the change applies and a client still resumes from event 41
    assert after.is_enabled("a", Context()) is True
    assert after.to_dict()["eventId"] == 41
