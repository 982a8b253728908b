"""What evaluation accepts as the context: a ``Context``, a plain ``str`` key, nothing else.

A ``str`` is taken as ``Context(key=that)``; any other type returns the caller's default with
``INVALID_CONTEXT`` (``disabled`` for ``variant``), logged once per type at DEBUG level. Nothing
raises, and nothing is printed or logged above DEBUG.
"""

from __future__ import annotations

import dataclasses
import logging
from enum import StrEnum
from typing import Any

import pytest

from rheostat import Context, ErrorCode, Evaluation, FlagSet, Reason, Variant
from rheostat.flags.model import context_of_key

DOCUMENT: dict[str, Any] = {
    "version": 1,
    "flags": {
        "new-checkout": {
            "default": "off",
            "targets": [{"variant": "on", "keys": ["user-1"]}],
            "rules": [{"serve": {"split": {"on": 50, "off": 50}}}],
            "version": 3,
        },
        "always-on": {"default": "on"},
        "always-off": {"default": "off"},
        "copy": {
            "variants": {"a": "A", "b": "B"},
            "default": "a",
            "rules": [{"serve": {"split": {"a": 50, "b": 50}}}],
        },
    },
}
UNLEASH: dict[str, Any] = {
    "version": 1,
    "features": [
        {
            "name": "new-checkout",
            "enabled": True,
            "strategies": [
                {
                    "name": "flexibleRollout",
                    "parameters": {"rollout": "50", "stickiness": "userId", "groupId": "g"},
                }
            ],
        }
    ],
}
KEYS = ["user-1", "", "ünïcødé", *(f"user-{index}" for index in range(2, 200))]
WRONG_CONTEXTS = [None, 42, 4.2, True, {"key": "user-1"}, b"user-1", ["user-1"], object()]
DISABLED = Variant(name="disabled", enabled=False, feature_enabled=False)


class Plan(StrEnum):
    PRO = "pro"


@pytest.fixture
def quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Production mode: an internal error would be logged and answered, not re-raised."""
    monkeypatch.setattr(FlagSet, "strict", False)


def native() -> FlagSet:
    return FlagSet.from_dict(DOCUMENT)


def test_a_str_is_the_context_with_that_key() -> None:
    # Given flags with targets, splits and constant answers
    flags = native()
    for key in ("new-checkout", "always-on", "always-off", "copy"):
        for user in KEYS:
            # When evaluating with the plain key and with a Context holding it
            context = Context(key=user)
            # Then every answer is the same
            assert flags.is_enabled(key, user) is flags.is_enabled(key, context)
            assert flags.variant(key, user) == flags.variant(key, context)
            assert flags.evaluate(key, user, default=None) == flags.evaluate(key, context)


def test_the_fast_context_of_a_key_equals_the_built_one_field_by_field() -> None:
    # Given Context's fields (a new one must be set by context_of_key too: this test names them)
    assert [field.name for field in dataclasses.fields(Context)] == ["key", "attributes"]
    for key in KEYS[:5]:
        # When a str context is wrapped the fast way
        fast, built = context_of_key(key), Context(key=key)
        # Then it equals Context(key=...) in every field, and its attributes are read-only
        assert fast == built
        assert all(
            getattr(fast, f.name) == getattr(built, f.name) for f in dataclasses.fields(Context)
        )
        with pytest.raises(TypeError):
            fast.attributes["plan"] = "pro"  # type: ignore[index]


def test_a_str_targets_and_splits_like_its_context() -> None:
    flags = native()
    assert flags.evaluate("new-checkout", "user-1") == Evaluation(
        True, "on", Reason.TARGETING_MATCH, None, 3
    )
    served = {flags.evaluate("new-checkout", f"u{index}").reason for index in range(100)}
    assert served == {Reason.SPLIT}
    # an empty str is the anonymous context: a split by key does not apply to it
    assert flags.evaluate("new-checkout", "").reason is Reason.DEFAULT
    assert flags.is_enabled("always-on", "") is True


def test_a_str_enum_member_is_the_key_of_its_value() -> None:
    flags = native()
    assert flags.evaluate("copy", Plan.PRO) == flags.evaluate("copy", Context(key="pro"))


def test_a_context_subclass_is_a_context() -> None:
    # Given a caller's own Context subclass
    class UserContext(Context):
        pass

    flags = native()
    # Then it is evaluated as the Context it is
    assert flags.evaluate("new-checkout", UserContext(key="user-1")).value is True
    assert flags.is_enabled("always-on", UserContext(key="x")) is True
    assert flags.variant("copy", UserContext(key="x")) == flags.variant("copy", Context(key="x"))


@pytest.mark.parametrize("context", WRONG_CONTEXTS, ids=lambda value: type(value).__name__)
@pytest.mark.parametrize("key", ["new-checkout", "always-on", "always-off", "copy"])
def test_a_context_of_another_type_returns_the_default(
    key: str, context: Any, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    # Given flags of every kind (the test suite re-raises any internal error)
    flags = native()
    version = 3 if key == "new-checkout" else None
    # When a caller passes a context that is neither a Context nor a str
    evaluation = flags.evaluate(key, context, default="fallback")
    # Then the caller's default comes back with INVALID_CONTEXT, from every entry point
    assert evaluation == Evaluation(
        "fallback", None, Reason.ERROR, ErrorCode.INVALID_CONTEXT, version
    )
    assert flags.is_enabled(key, context) is False
    assert flags.is_enabled(key, context, default=True) is True
    assert flags.variant(key, context) == DISABLED
    # And nothing is printed or logged above DEBUG
    assert capsys.readouterr() == ("", "")
    assert [record for record in caplog.records if record.levelno > logging.DEBUG] == []


def test_an_unknown_flag_is_reported_before_a_bad_context() -> None:
    evaluation = native().evaluate("nope", None, default=1)
    assert evaluation.error_code is ErrorCode.FLAG_NOT_FOUND


@pytest.mark.usefixtures("quiet")
def test_a_str_or_a_wrong_type_prints_nothing_in_production(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    # Given production mode, where an internal error is logged with its traceback
    flags = native()
    # When a caller passes the key as a str (the reported case), then None
    assert flags.is_enabled("new-checkout", "user-1") is True
    assert flags.variant("new-checkout", "user-1").name == "on"
    assert flags.is_enabled("new-checkout", None) is False
    # Then nothing reaches stderr, and nothing is logged as an error
    assert capsys.readouterr() == ("", "")
    assert [record for record in caplog.records if record.levelno > logging.DEBUG] == []


def test_a_wrong_context_type_is_logged_once_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    # Given a context type never seen before
    class NotAContext:
        pass

    flags = native()
    caplog.set_level(logging.DEBUG, logger="rheostat.flags")
    # When it is passed many times, through every entry point
    for _ in range(100):
        flags.evaluate("copy", NotAContext())
        flags.is_enabled("new-checkout", NotAContext())
        flags.variant("always-on", NotAContext())
    # Then one DEBUG record names the type, and no more
    records = [record for record in caplog.records if "NotAContext" in record.getMessage()]
    assert len(records) == 1
    assert records[0].levelno == logging.DEBUG
    assert "must be a Context or a str" in records[0].getMessage()


def test_an_unleash_import_takes_a_str_and_refuses_a_wrong_type() -> None:
    flags = FlagSet.from_unleash(UNLEASH)
    for user in KEYS:
        context = Context(key=user)
        assert flags.is_enabled("new-checkout", user) is flags.is_enabled("new-checkout", context)
        assert flags.evaluate("new-checkout", user) == flags.evaluate("new-checkout", context)
    assert flags.evaluate("new-checkout", None).error_code is ErrorCode.INVALID_CONTEXT
    assert flags.is_enabled("new-checkout", 7, default=True) is True
    assert flags.variant("new-checkout", {"userId": "u"}) == DISABLED
