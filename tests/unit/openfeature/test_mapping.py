"""The pure translations between rheostat's and OpenFeature's evaluation models."""

from __future__ import annotations

import math
from typing import Any

import pytest
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode as OpenFeatureErrorCode
from openfeature.flag_evaluation import Reason as OpenFeatureReason

from rheostat.flags import Context, ErrorCode, Evaluation, Reason
from rheostat.openfeature.mapping import Kind, context_of, resolution_of, value_of


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        (True, Kind.BOOLEAN, (True, True)),
        (1, Kind.BOOLEAN, (False, 1)),
        ("x", Kind.STRING, (True, "x")),
        (3, Kind.INTEGER, (True, 3)),
        (3.0, Kind.INTEGER, (True, 3)),
        (2.5, Kind.INTEGER, (False, None)),
        (True, Kind.INTEGER, (False, None)),
        (math.inf, Kind.INTEGER, (False, None)),
        (10, Kind.FLOAT, (True, 10.0)),
        (False, Kind.FLOAT, (False, None)),
        ("1.5", Kind.FLOAT, (False, None)),
        ({"a": 1}, Kind.OBJECT, (True, {"a": 1})),
        ([1, 2], Kind.OBJECT, (True, [1, 2])),
        ("[1, 2]", Kind.OBJECT, (False, "[1, 2]")),
    ],
)
def test_value_of_accepts_exactly_the_kind_asked_for(
    value: Any, kind: Kind, expected: tuple[bool, Any]
) -> None:
    matches, converted = value_of(value, kind)
    assert (matches, converted if matches else expected[1]) == expected
    if matches:
        assert type(converted) is type(expected[1])


def test_context_of_takes_the_targeting_key_and_the_attributes() -> None:
    # Given OpenFeature contexts with and without a targeting key
    full = EvaluationContext(targeting_key="user-1", attributes={"plan": "pro"})
    anonymous = EvaluationContext(attributes={"country": "NZ"})

    # When they are translated
    # Then the key is the targeting key (empty when absent) and the attributes are copied
    assert context_of(full) == Context(key="user-1", attributes={"plan": "pro"})
    assert context_of(anonymous) == Context(key="", attributes={"country": "NZ"})
    assert context_of(None) == Context()


@pytest.mark.parametrize("code", list(ErrorCode))
def test_every_rheostat_error_code_has_its_openfeature_code(code: ErrorCode) -> None:
    # Given an evaluation that failed with the code
    evaluation = Evaluation("default", None, Reason.ERROR, code)

    # When it is translated
    resolution = resolution_of("f", evaluation, "default", Kind.STRING, {})

    # Then the OpenFeature code has the same name and the default comes back
    assert resolution.error_code == OpenFeatureErrorCode(code.value)
    assert (resolution.value, resolution.reason) == ("default", OpenFeatureReason.ERROR)
    assert "f" in (resolution.error_message or "")


@pytest.mark.parametrize("reason", [reason for reason in Reason if reason is not Reason.ERROR])
def test_every_rheostat_reason_comes_through_by_name(reason: Reason) -> None:
    # Given an evaluation with the reason and a variant
    evaluation = Evaluation(True, "on", reason)

    # When it is translated
    resolution = resolution_of("f", evaluation, False, Kind.BOOLEAN, {"version": 2})

    # Then OpenFeature's reason of that name (or rheostat's own string) and the variant
    assert (resolution.value, resolution.variant, resolution.reason) == (True, "on", reason.value)
    assert resolution.error_code is None
    assert resolution.flag_metadata == {"version": 2}


def test_the_clients_no_flags_default_is_provider_not_ready() -> None:
    # Given what a client with no flags at all answers (DEFAULT, no variant)
    evaluation = Evaluation(7, None, Reason.DEFAULT)

    # When it is translated
    resolution = resolution_of("f", evaluation, 7, Kind.INTEGER, {})

    # Then it is the default with PROVIDER_NOT_READY
    assert (resolution.value, resolution.error_code) == (
        7,
        OpenFeatureErrorCode.PROVIDER_NOT_READY,
    )
