"""Unleash behaviour the client specification does not pin, as rheostat implements it.

Bucketing vectors, the deterministic stand-in for Unleash's random numbers, typed
``evaluate``, regex translation, non-string context values and the hostname strategy.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import mmh3
import pytest
from unleash_documents import constraint, document, feature, strategy, variant

from rheostat import Context, ErrorCode, FlagSet, Reason

USERS = [f"user-{number}" for number in range(2000)]


def rollout(name: str, percent: int, **parameters: str) -> dict[str, Any]:
    parameters = {"rollout": str(percent), "groupId": name, **parameters}
    return feature(name, strategies=[strategy("flexibleRollout", parameters=parameters)])


def only(*constraints: dict[str, Any]) -> FlagSet:
    return FlagSet.from_unleash(
        document(feature("f", strategies=[strategy(constraints=list(constraints))]))
    )


def enabled_users(flags: FlagSet, name: str) -> set[str]:
    return {user for user in USERS if flags.is_enabled(name, Context(key=user))}


# Bucketing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("group_id", "user_id", "bucket"), [("gr1", "123", 73), ("groupX", "999", 25)]
)
def test_rollouts_bucket_like_unleash_normalized_hash(
    group_id: str, user_id: str, bucket: int
) -> None:
    # Given: Unleash's own normalizedHash vectors (bucket 73 and 25)
    def gradual(percent: int) -> dict[str, Any]:
        parameters = {"percentage": str(percent), "groupId": group_id}
        return feature(
            f"at-{percent}", strategies=[strategy("gradualRolloutUserId", parameters=parameters)]
        )

    flags = FlagSet.from_unleash(document(gradual(bucket), gradual(bucket - 1)))
    context = Context.from_unleash({"userId": user_id})

    # When
    at_bucket, below_bucket = (
        flags.is_enabled(f"at-{bucket}", context),
        flags.is_enabled(f"at-{bucket - 1}", context),
    )

    # Then
    assert (at_bucket, below_bucket) == (True, False)


def gradual_user_rollout(name: str, percent: int, group_id: str) -> dict[str, Any]:
    parameters = {"percentage": str(percent), "groupId": group_id}
    return feature(name, strategies=[strategy("gradualRolloutUserId", parameters=parameters)])


def test_non_ascii_ids_bucket_by_their_utf8_bytes() -> None:
    # Given
    user = "Østhus-😀"
    bucket = mmh3.hash(f"g:{user}".encode(), 0, signed=False) % 100 + 1
    at, below = (
        gradual_user_rollout("at", bucket, "g"),
        gradual_user_rollout("below", bucket - 1, "g"),
    )
    flags = FlagSet.from_unleash(document(at, below))

    # When
    answers = (
        flags.is_enabled("at", Context(key=user)),
        flags.is_enabled("below", Context(key=user)),
    )

    # Then
    assert answers == (True, False)


def test_a_lone_surrogate_in_the_context_is_bucketed_without_crashing() -> None:
    # Given
    raw = document(rollout("half", 50), feature("v", variants=[variant("a"), variant("b")]))
    flags = FlagSet.from_unleash(raw)

    # When
    answers = {flags.is_enabled("half", Context(key="\ud800")) for _ in range(3)}
    served = flags.variant("v", Context(key="\ud800")).name

    # Then
    assert len(answers) == 1
    assert served in ("a", "b")


def test_widening_a_rollout_keeps_everyone_already_in() -> None:
    # Given
    flags = FlagSet.from_unleash(
        document(rollout("narrow", 30, groupId="g"), rollout("wide", 60, groupId="g"))
    )

    # When
    narrow, wide = enabled_users(flags, "narrow"), enabled_users(flags, "wide")

    # Then
    assert narrow < wide
    assert 0.25 < len(narrow) / len(USERS) < 0.35
    assert 0.55 < len(wide) / len(USERS) < 0.65


def test_a_native_context_key_is_the_unleash_user_id() -> None:
    # Given
    flags = FlagSet.from_unleash(document(rollout("half", 50)))

    # When
    native = enabled_users(flags, "half")
    unleash = {
        user for user in USERS if flags.is_enabled("half", Context.from_unleash({"userId": user}))
    }

    # Then
    assert native == unleash


# Randomness stand-in --------------------------------------------------------------------------


def random_rollout(percent: int) -> dict[str, Any]:
    return feature(
        f"random-{percent}",
        strategies=[strategy("gradualRolloutRandom", parameters={"percentage": str(percent)})],
    )


def test_random_rollouts_are_stable_per_session() -> None:
    # Given
    flags = FlagSet.from_unleash(document(random_rollout(50)))
    sessions = [Context.from_unleash({"sessionId": f"s-{number}"}) for number in range(1000)]

    # When
    first = [flags.is_enabled("random-50", context) for context in sessions]
    second = [flags.is_enabled("random-50", context) for context in sessions]

    # Then
    assert first == second
    assert 0.45 < sum(first) / len(first) < 0.55


@pytest.mark.parametrize(("percent", "expected"), [(0, False), (100, True)])
def test_random_rollouts_are_exact_at_the_ends(percent: int, expected: bool) -> None:
    # Given
    flags = FlagSet.from_unleash(document(random_rollout(percent)))
    contexts = [Context(), *(Context.from_unleash({"sessionId": f"s-{n}"}) for n in range(100))]

    # When
    answers = {flags.is_enabled(f"random-{percent}", context) for context in contexts}

    # Then
    assert answers == {expected}


def test_variants_without_a_stickiness_value_are_stable_per_session() -> None:
    # Given
    raw = document(feature("f", variants=[variant("a", stickiness="default"), variant("b")]))
    flags = FlagSet.from_unleash(raw)
    sessions = [Context.from_unleash({"sessionId": f"s-{number}"}) for number in range(400)]

    # When
    first = [flags.variant("f", context).name for context in sessions]
    second = [flags.variant("f", context).name for context in sessions]

    # Then
    assert first == second
    assert set(first) == {"a", "b"}


# Typed evaluation -----------------------------------------------------------------------------


def test_a_feature_without_variants_evaluates_to_a_boolean() -> None:
    # Given
    flags = FlagSet.from_unleash(document(feature("on"), feature("off", enabled=False)))

    # When
    on, off = (
        flags.evaluate("on", Context(), default=False),
        flags.evaluate("off", Context(), default=False),
    )

    # Then
    assert (on.value, on.variant, on.reason) == (True, "enabled", Reason.TARGETING_MATCH)
    assert (off.value, off.variant, off.reason) == (False, "disabled", Reason.DISABLED)


def test_a_feature_whose_strategies_do_not_match_gives_default() -> None:
    # Given
    flags = only(constraint("country", "IN", values=["NO"]))

    # When
    evaluation = flags.evaluate("f", Context(attributes={"country": "SE"}))

    # Then
    assert (evaluation.value, evaluation.reason) == (False, Reason.DEFAULT)


def test_a_failed_dependency_is_reported_as_such() -> None:
    # Given
    raw = document(
        feature("child", dependencies=[{"feature": "parent"}]), feature("parent", enabled=False)
    )
    flags = FlagSet.from_unleash(raw)

    # When
    evaluation = flags.evaluate("child", Context())

    # Then
    assert (evaluation.value, evaluation.reason) == (False, Reason.PREREQUISITE_FAILED)


def test_a_variant_override_is_a_targeting_match() -> None:
    # Given
    overrides = [{"contextName": "userId", "values": ["vip"]}]
    raw = document(
        feature("f", variants=[variant("a", weight=0, overrides=overrides), variant("b")])
    )
    flags = FlagSet.from_unleash(raw)

    # When
    vip, other = flags.evaluate("f", Context(key="vip")), flags.evaluate("f", Context(key="other"))

    # Then
    assert (vip.value, vip.variant, vip.reason) == ("a", "a", Reason.TARGETING_MATCH)
    assert (other.value, other.variant, other.reason) == ("b", "b", Reason.SPLIT)


@pytest.mark.parametrize(
    ("payload", "default", "value"),
    [
        ({"type": "number", "value": "42"}, 10, 42),
        ({"type": "number", "value": "1.5"}, 1.0, 1.5),
        ({"type": "json", "value": '{"limit": 3}'}, {}, {"limit": 3}),
        ({"type": "json", "value": "[1, 2]"}, [], [1, 2]),
        ({"type": "string", "value": "blue"}, "red", "blue"),
        ({"type": "csv", "value": "a,b"}, None, "a,b"),
    ],
)
def test_a_variant_payload_takes_the_type_of_the_default(
    payload: dict[str, str], default: Any, value: Any
) -> None:
    # Given
    flags = FlagSet.from_unleash(document(feature("f", variants=[variant("v", payload=payload)])))

    # When
    evaluation = flags.evaluate("f", Context(key="u"), default=default)

    # Then
    assert (evaluation.value, evaluation.variant, evaluation.reason) == (value, "v", Reason.SPLIT)


@pytest.mark.parametrize(
    ("variants", "default"),
    [
        ([variant("v")], True),
        ([variant("v", payload={"type": "string", "value": "x"})], 10),
        ([variant("v", payload={"type": "json", "value": "[1]"})], {}),
        ([], "text"),
    ],
)
def test_a_default_of_another_type_is_a_type_mismatch(variants: list[Any], default: Any) -> None:
    # Given
    flags = FlagSet.from_unleash(document(feature("f", variants=variants)))

    # When
    evaluation = flags.evaluate("f", Context(key="u"), default=default)

    # Then
    assert (evaluation.value, evaluation.reason, evaluation.error_code) == (
        default,
        Reason.ERROR,
        ErrorCode.TYPE_MISMATCH,
    )


def test_a_variant_without_payload_evaluates_to_its_name() -> None:
    # Given
    flags = FlagSet.from_unleash(document(feature("f", variants=[{"name": "plain", "weight": 1}])))

    # When
    evaluation = flags.evaluate("f", Context(key="u"), default="fallback")

    # Then
    assert (evaluation.value, evaluation.variant) == ("plain", "plain")
    assert flags.variant("f", Context(key="u")).to_unleash() == {
        "name": "plain",
        "enabled": True,
        "feature_enabled": True,
    }


def test_an_unusual_payload_type_is_served_as_unleash_wrote_it() -> None:
    # Given
    payload = {"type": "boolean", "value": "true"}
    flags = FlagSet.from_unleash(document(feature("f", variants=[variant("v", payload=payload)])))

    # When
    served = flags.variant("f", Context(key="u")).to_unleash()

    # Then
    assert served["payload"] == payload


# Constraints on Python contexts ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "attributes"),
    [
        (constraint("age", "NUM_GT", value="18"), {"age": 30}),
        (constraint("score", "NUM_EQ", value="2"), {"score": 2.0}),
        (constraint("beta", "IN", values=["true"]), {"beta": True}),
        (
            constraint("currentTime", "DATE_AFTER", value="2024-01-01T00:00:00Z"),
            {"currentTime": datetime(2024, 6, 1, tzinfo=UTC)},
        ),
    ],
)
def test_non_string_attributes_compare_as_unleash_renders_them(
    condition: dict[str, Any], attributes: dict[str, Any]
) -> None:
    # Given
    flags = only(condition)

    # When
    enabled = flags.is_enabled("f", Context(attributes=attributes))

    # Then
    assert enabled is True


def test_date_constraints_need_the_current_time_in_the_context() -> None:
    # Given
    flags = only(constraint("currentTime", "DATE_BEFORE", value="2999-01-01T00:00:00Z"))

    # When
    enabled = flags.is_enabled("f", Context())

    # Then
    assert enabled is False


def test_application_hostname_reads_the_hostname_attribute() -> None:
    # Given
    hosts = strategy("applicationHostname", parameters={"hostNames": "web-1, Web-2"})
    flags = FlagSet.from_unleash(document(feature("f", strategies=[hosts])))

    # When
    answers = [
        flags.is_enabled("f", Context(attributes={"hostname": name})) for name in ("WEB-2", "web-3")
    ]

    # Then
    assert answers == [True, False]
    assert flags.is_enabled("f", Context()) is False


@pytest.mark.parametrize(
    ("pattern", "user_id", "expected"),
    [
        ("^cat$", "cat\n", False),  # Rust's $ is the very end, not before a final newline
        ("^(?i)abc$", "ABC", True),  # a mid-pattern flag applies to the rest
        ("^a(?i)b$", "AB", False),  # ...and not to what comes before it
        ("(?m)^b$", "a\nb\nc", True),
        ("^[[:digit:]]{3}$", "123", True),
        ("^\\x{263A}$", "\u263a", True),
        ("^(?<word>[a-z]+)$", "hello", True),
        ("^(?!a)", "b", False),  # Unleash rejects lookaround
        ("a++", "aa", False),  # ...and possessive repetition
        ("a\\z", "xa", True),
    ],
)
def test_regex_constraints_follow_unleash_syntax(
    pattern: str, user_id: str, expected: bool
) -> None:
    # Given
    raw = document(
        feature(
            "f", strategies=[strategy(constraints=[constraint("userId", "REGEX", value=pattern)])]
        )
    )

    # When
    enabled = FlagSet.from_unleash(raw).is_enabled("f", Context(key=user_id))

    # Then
    assert enabled is expected


def test_semver_build_metadata_takes_part_in_equality() -> None:
    # Given
    flags = only(constraint("version", "SEMVER_EQ", value="1.0.0+build.1"))

    # When
    answers = [
        flags.is_enabled("f", Context(attributes={"version": v}))
        for v in ("1.0.0+build.1", "1.0.0+build.2", "1.0.0")
    ]

    # Then
    assert answers == [True, False, False]
