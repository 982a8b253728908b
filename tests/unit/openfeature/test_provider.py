"""``RheostatProvider`` over local flags, through the OpenFeature SDK's own API and client."""

from __future__ import annotations

import json
import queue
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.event import EventDetails, ProviderEvent
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import FlagEvaluationDetails, Reason
from openfeature.hook import Hook, HookContext
from openfeature.provider import ProviderStatus

import rheostat
from rheostat.flags import FlagSet
from rheostat.openfeature import RheostatProvider

WAIT_S = 30.0

FLAGS: dict[str, Any] = {
    "version": 1,
    "flags": {
        "checkout": {
            "variants": {"on": True, "off": False},
            "default": "off",
            "targets": [{"variant": "on", "keys": ["vip"]}],
            "rules": [
                {"when": [{"attribute": "plan", "op": "eq", "values": ["pro"]}], "serve": "on"},
                {"when": [{"attribute": "plan", "op": "eq", "values": ["beta"]}],
                 "serve": {"split": {"on": 50, "off": 50}}},
            ],
        },
        "killed": {"enabled": False, "variants": {"on": True, "off": False}, "default": "off"},
        "banner": {"type": "string", "variants": {"blue": "Blue", "red": "Red"},
                   "default": "red"},
        "limit": {"type": "number", "variants": {"low": 10, "high": 2.5}, "default": "low"},
        "ratio": {"type": "number", "variants": {"half": 0.5}, "default": "half"},
        "layout": {"type": "json", "variants": {"grid": {"columns": 3}}, "default": "grid"},
        "needs-checkout": {
            "variants": {"on": True, "off": False},
            "default": "on",
            "prerequisites": [{"flag": "killed", "variants": ["on"]}],
        },
    },
}  # fmt: skip


@pytest.fixture
def client() -> Iterator[Any]:
    api.set_provider_and_wait(RheostatProvider(FlagSet.from_dict(FLAGS)))
    yield api.get_client()
    api.clear_providers()


def _user(key: str, **attributes: Any) -> EvaluationContext:
    return EvaluationContext(targeting_key=key, attributes=attributes)


def _summary(details: FlagEvaluationDetails[Any]) -> tuple[Any, Any, Any, Any]:
    return details.value, details.variant, details.reason, details.error_code


def test_each_type_resolves_with_its_variant_and_reason(client: Any) -> None:
    # Given a provider of local flags behind the SDK's client
    # When each type is asked for
    boolean = client.get_boolean_details("checkout", False, _user("vip"))
    string = client.get_string_details("banner", "none", _user("u1"))
    integer = client.get_integer_details("limit", 0, _user("u1"))
    number = client.get_float_details("ratio", 0.0, _user("u1"))
    whole = client.get_float_details("limit", 0.0, _user("u1"))
    layout = client.get_object_details("layout", {}, _user("u1"))

    # Then values, variants and reasons come through, numbers in the type asked for
    assert _summary(boolean) == (True, "on", Reason.TARGETING_MATCH, None)
    assert _summary(string) == ("Red", "red", Reason.STATIC, None)
    assert _summary(integer) == (10, "low", Reason.STATIC, None)
    assert _summary(number) == (0.5, "half", Reason.STATIC, None)
    assert (whole.value, type(whole.value)) == (10.0, float)
    assert _summary(layout) == ({"columns": 3}, "grid", Reason.STATIC, None)


def test_reasons_follow_the_engine(client: Any) -> None:
    # Given a targeted flag, a killed one and one whose prerequisite is killed
    # When contexts take each path
    rule = client.get_boolean_details("checkout", False, _user("u1", plan="pro"))
    nothing = client.get_boolean_details("checkout", True, _user("u1", plan="free"))
    split = client.get_boolean_details("checkout", False, _user("u1", plan="beta"))
    killed = client.get_boolean_details("killed", True, _user("u1"))
    prerequisite = client.get_boolean_details("needs-checkout", True, _user("u1"))

    # Then the reasons are OpenFeature's (and rheostat's own where OpenFeature has none)
    assert (rule.value, rule.reason) == (True, Reason.TARGETING_MATCH)
    assert (nothing.value, nothing.reason) == (False, Reason.DEFAULT)
    assert split.reason == Reason.SPLIT
    assert (killed.value, killed.variant, killed.reason) == (False, "off", Reason.DISABLED)
    assert (prerequisite.value, prerequisite.reason) == (True, "PREREQUISITE_FAILED")


def test_the_split_is_the_engines_bucketing(client: Any) -> None:
    # Given 200 beta users
    users = [f"user-{index}" for index in range(200)]
    flags = FlagSet.from_dict(FLAGS)

    # When each is evaluated through OpenFeature and through the engine
    through_sdk = [
        client.get_boolean_value("checkout", False, _user(user, plan="beta")) for user in users
    ]
    direct = [
        flags.is_enabled("checkout", rheostat.Context(user, {"plan": "beta"})) for user in users
    ]

    # Then they agree for every user, and both variants occur
    assert through_sdk == direct
    assert set(through_sdk) == {True, False}


def test_errors_come_back_with_the_default_and_a_code(client: Any) -> None:
    # Given the same flags
    # When a flag is unknown, asked as the wrong type, or a number is fractional for an integer
    missing = client.get_boolean_details("missing", True, _user("u1"))
    as_string = client.get_string_details("checkout", "fallback", _user("u1"))
    as_object = client.get_object_details("banner", {"x": 1}, _user("u1"))
    fractional = client.get_integer_details("limit", 7, _user("vip", plan="x"))
    high = RheostatProvider(FlagSet.from_dict(_with_default(FLAGS, "limit", "high")))
    api.set_provider_and_wait(high, domain="high")
    fraction = api.get_client("high").get_integer_details("limit", 7, _user("u1"))

    # Then each is the caller's default with the OpenFeature error code, never an exception
    assert _summary(missing) == (True, None, Reason.ERROR, ErrorCode.FLAG_NOT_FOUND)
    assert _summary(as_string) == ("fallback", None, Reason.ERROR, ErrorCode.TYPE_MISMATCH)
    assert _summary(as_object) == ({"x": 1}, None, Reason.ERROR, ErrorCode.TYPE_MISMATCH)
    assert fractional.value == 10
    assert _summary(fraction) == (7, None, Reason.ERROR, ErrorCode.TYPE_MISMATCH)
    assert "limit" in (missing.error_message or "") + (fraction.error_message or "")


def _with_default(document: dict[str, Any], key: str, default: str) -> dict[str, Any]:
    copy: dict[str, Any] = json.loads(json.dumps(document))
    copy["flags"][key]["default"] = default
    return copy


def test_flag_metadata_carries_the_flag_version() -> None:
    # Given a flag with a version
    document = _with_default(FLAGS, "banner", "blue")
    document["flags"]["banner"]["version"] = 4
    api.set_provider_and_wait(RheostatProvider(FlagSet.from_dict(document)), domain="meta")
    try:
        # When it is evaluated
        details = api.get_client("meta").get_string_details("banner", "", _user("u1"))
    finally:
        api.clear_providers()

    # Then the metadata names the version evaluated
    assert details.flag_metadata == {"version": 4}


class _Recorder(Hook):
    def __init__(self) -> None:
        self.seen: list[tuple[str, object]] = []

    def after(
        self, hook_context: HookContext, details: FlagEvaluationDetails[Any], hints: Any
    ) -> None:
        self.seen.append((hook_context.flag_key, details.value))


def test_the_providers_hooks_run_on_each_evaluation() -> None:
    # Given a provider with a hook
    hook = _Recorder()
    api.set_provider_and_wait(RheostatProvider(FlagSet.from_dict(FLAGS), hooks=[hook]))
    try:
        # When two flags are evaluated through the SDK's client
        client = api.get_client()
        client.get_boolean_value("checkout", False, _user("vip"))
        client.get_string_value("banner", "", _user("u1"))
    finally:
        api.clear_providers()

    # Then the hook saw both results
    assert hook.seen == [("checkout", True), ("banner", "Red")]


def test_a_file_provider_reports_ready_and_a_bad_file_reports_an_error(tmp_path: Path) -> None:
    # Given a good flag file and a file that is not a flag document
    good = tmp_path / "flags.json"
    good.write_text(json.dumps(FLAGS))
    bad = tmp_path / "bad.yaml"
    bad.write_text("flags: [not, a, mapping]\n")
    errors: queue.Queue[EventDetails] = queue.Queue()
    api.add_handler(ProviderEvent.PROVIDER_ERROR, errors.put)
    try:
        # When each is set as a provider
        api.set_provider_and_wait(RheostatProvider.from_file(good, watch=False), domain="good")
        api.set_provider(RheostatProvider.from_file(bad, watch=False), domain="bad")
        error = errors.get(timeout=WAIT_S)
        good_client, bad_client = api.get_client("good"), api.get_client("bad")
        value = good_client.get_string_value("banner", "", _user("u1"))
        statuses = good_client.get_provider_status(), bad_client.get_provider_status()
        fallback = bad_client.get_string_details("banner", "none", _user("u1"))
    finally:
        api.clear_providers()

    # Then the good one serves its flags; the bad one is in error and serves the default
    assert value == "Red"
    assert statuses == (ProviderStatus.READY, ProviderStatus.ERROR)
    assert error.provider_name == "rheostat"
    assert (fallback.value, fallback.error_code) == ("none", ErrorCode.PROVIDER_NOT_READY)


def test_context_attributes_and_an_anonymous_context_reach_the_rules(client: Any) -> None:
    # Given a rule on the plan attribute
    # When the context has no targeting key, or none at all
    anonymous = client.get_boolean_details("checkout", False, EvaluationContext(
        attributes={"plan": "pro"}))  # fmt: skip
    nothing = client.get_boolean_details("checkout", True)

    # Then attributes still match and no context is an anonymous one
    assert (anonymous.value, anonymous.reason) == (True, Reason.TARGETING_MATCH)
    assert (nothing.value, nothing.reason) == (False, Reason.DEFAULT)
