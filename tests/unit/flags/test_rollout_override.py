"""``RHEOSTAT_ROLLOUT_<FLAG>=<percent>``: an environment rollout of a bool flag.

It buckets as the server's rollout does (the one bucketing function, the flag's salt), answers
``OVERRIDE``, and ranks below ``RHEOSTAT_KILL_<FLAG>`` and ``RHEOSTAT_FLAG_<FLAG>``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from rheostat import ConfigurationError, Context, Evaluation, FlagSet, Reason
from rheostat.flags.bucketing import bucket
from rheostat.flags.overrides import unmatched_variables
from rheostat.sdk import Client

KEYS = [f"user-{index:05d}" for index in range(20_000)]
PERCENTS = [0, 0.001, 12.345, 25, 50, 99.999, 100]


def document(**flag: Any) -> dict[str, Any]:
    """A bool flag ``f`` (salted ``f-salt``) with ``flag``'s fields, and a dependent ``child``."""
    return {
        "version": 1,
        "flags": {
            "f": {"variants": {"on": True, "off": False}, "default": "off", "salt": "f-salt"}
            | flag,
            "child": {
                "default": "off",
                "prerequisites": [{"flag": "f", "variants": ["on"]}],
                "rules": [{"serve": "on"}],
            },
            "copy": {"variants": {"a": "A", "b": "B"}, "default": "a"},
        },
    }


# Rules an environment rollout replaces: everyone in US gets off, a 10% split for the rest.
RULES = [
    {"when": [{"attribute": "country", "op": "eq", "values": ["US"]}], "serve": "off"},
    {"serve": {"split": {"on": 10, "off": 90}}},
]


def rolled_out(percent: float | str, **flag: Any) -> FlagSet:
    flags = FlagSet.from_dict(document(rules=RULES, **flag))
    return flags.with_overrides({"RHEOSTAT_ROLLOUT_F": str(percent)})


def server_rollout(percent: float) -> FlagSet:
    """The flag as the server's ``set_rollout_percentage`` writes it: on first in a catch-all."""
    split = {"on": percent, "off": round(100 - percent, 3)}
    return FlagSet.from_dict(document(rules=[{"name": "rollout", "serve": {"split": split}}]))


def test_a_rollout_serves_on_to_that_share_with_reason_override() -> None:
    # Given a flag with rules, rolled out to 25% from the environment
    flags = rolled_out(25)
    # When evaluating many users, some of whom a rule would have turned off
    served = [flags.evaluate("f", Context(key=key, attributes={"country": "US"})) for key in KEYS]
    # Then about 25% are on, every answer is on or off, and every reason is OVERRIDE
    share = sum(evaluation.value for evaluation in served) / len(served)
    assert 0.24 < share < 0.26
    assert {(e.variant, e.value) for e in served} == {("on", True), ("off", False)}
    assert {evaluation.reason for evaluation in served} == {Reason.OVERRIDE}


@pytest.mark.parametrize("percent", PERCENTS)
def test_a_rollout_serves_the_same_users_as_the_server_rollout(percent: float) -> None:
    # Given the environment rollout and the server's rollout at the same percent
    environment, server = rolled_out(percent), server_rollout(percent)
    # Then exactly the same users are on
    for key in KEYS:
        context = Context(key=key)
        assert environment.is_enabled("f", context) is server.is_enabled("f", context)


@pytest.mark.parametrize("percent", PERCENTS)
def test_a_rollout_is_on_exactly_below_the_bucket_threshold(percent: float) -> None:
    # Given an environment rollout of a flag salted "f-salt"
    flags = rolled_out(percent)
    # Then a user is on exactly when bucket() puts it below the percent's share of buckets
    for key in KEYS:
        expected = bucket("f-salt", key) < round(percent * 1000)
        assert flags.is_enabled("f", Context(key=key)) is expected


@given(
    low=st.integers(min_value=0, max_value=100_000),
    high=st.integers(min_value=0, max_value=100_000),
    keys=st.lists(st.text(min_size=1, max_size=30), min_size=1, max_size=20),
)
def test_raising_the_percent_keeps_everyone_who_was_on(
    low: int, high: int, keys: list[str]
) -> None:
    # Given the same flag rolled out at a smaller and a larger percent
    small = rolled_out(min(low, high) / 1000)
    large = rolled_out(max(low, high) / 1000)
    for key in keys:
        # Then whoever is on at the smaller percent is on at the larger one
        if small.evaluate("f", Context(key=key)).value:
            assert large.evaluate("f", Context(key=key)).value is True


def test_a_context_without_a_key_gets_off() -> None:
    flags = rolled_out(100, default="on")
    assert flags.evaluate("f", Context()) == Evaluation(False, "off", Reason.OVERRIDE)


def test_a_rollout_wins_over_the_documents_kill_switch_and_renamed_variants_work() -> None:
    # Given a flag switched off in the document, whose variants are not called on and off
    definition = {"enabled": False, "variants": {"yes": True, "no": False}, "default": "no"}
    flags = FlagSet.from_dict({"flags": {"f": definition}})
    flags = flags.with_overrides({"RHEOSTAT_ROLLOUT_F": "100"})
    # Then the environment rollout applies, with the flag's own variant names
    assert flags.evaluate("f", Context(key="u")) == Evaluation(True, "yes", Reason.OVERRIDE)


def test_dependents_see_the_rolled_out_answer() -> None:
    # Given a flag rolled out to 50% and a flag that needs it on
    flags = rolled_out(50)
    # Then the dependent is on exactly for the users the rollout turns on
    for key in KEYS[:2000]:
        context = Context(key=key)
        assert flags.is_enabled("child", context) is flags.is_enabled("f", context)


def test_kill_wins_over_flag_which_wins_over_rollout() -> None:
    flags = FlagSet.from_dict(document(rules=RULES))
    everything = {"RHEOSTAT_KILL_F": "1", "RHEOSTAT_FLAG_F": "on", "RHEOSTAT_ROLLOUT_F": "100"}
    forced_and_rollout = {"RHEOSTAT_FLAG_F": "off", "RHEOSTAT_ROLLOUT_F": "100"}
    # When all three are set, the kill wins: off, and dependents see it off
    killed = flags.with_overrides(everything)
    assert killed.evaluate("f", Context(key="u")) == Evaluation(False, "off", Reason.OVERRIDE)
    assert killed.is_enabled("child", Context(key="u")) is False
    # When a variant is forced beside a rollout, the forced variant wins for everyone
    forced = flags.with_overrides(forced_and_rollout)
    assert not any(forced.is_enabled("f", Context(key=key)) for key in KEYS[:1000])


def test_a_shadowed_rollout_value_is_not_checked_so_a_kill_always_applies() -> None:
    flags = FlagSet.from_dict(document())
    killed = flags.with_overrides({"RHEOSTAT_KILL_F": "1", "RHEOSTAT_ROLLOUT_F": "lots"})
    assert killed.is_enabled("f", Context(key="u")) is False


@pytest.mark.parametrize("value", ["lots", "25%", "nan", "NaN", "-1", "-0.001", "100.001", "inf"])
def test_a_value_that_is_not_a_percentage_is_refused_naming_the_variable(value: str) -> None:
    flags = FlagSet.from_dict(document())
    message = f"RHEOSTAT_ROLLOUT_F={value}: not a rollout percentage; use a number from 0 to 100"
    with pytest.raises(ConfigurationError, match=f"^{message}"):
        flags.with_overrides({"RHEOSTAT_ROLLOUT_F": value})


@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_value_is_no_override(value: str) -> None:
    flags = FlagSet.from_dict(document(rules=RULES))
    assert flags.with_overrides({"RHEOSTAT_ROLLOUT_F": value}) is flags


def test_a_rollout_of_a_flag_that_is_not_on_off_is_refused() -> None:
    flags = FlagSet.from_dict(document())
    with pytest.raises(ConfigurationError, match="RHEOSTAT_ROLLOUT_COPY: flag 'copy' is not an"):
        flags.with_overrides({"RHEOSTAT_ROLLOUT_COPY": "10"})


def test_a_rollout_of_an_unleash_import_is_refused() -> None:
    flags = FlagSet.from_unleash(
        {"version": 1, "features": [{"name": "f", "enabled": True, "strategies": []}]}
    )
    with pytest.raises(ConfigurationError, match="RHEOSTAT_ROLLOUT_F: Unleash-imported flags"):
        flags.with_overrides({"RHEOSTAT_ROLLOUT_F": "10"})


def test_a_rollout_variable_naming_no_flag_is_reported() -> None:
    environment = {"RHEOSTAT_ROLLOUT_F": "5", "RHEOSTAT_ROLLOUT_TYPO": "5"}
    assert unmatched_variables(environment, ["f"]) == ["RHEOSTAT_ROLLOUT_TYPO"]


def test_a_file_client_applies_the_rollout_at_start_and_on_reload(tmp_path: Path) -> None:
    # Given a flag file and a 25% rollout in the client's environment
    path = tmp_path / "flags.yaml"
    path.write_text(yaml.safe_dump(document(rules=RULES)))
    environ = {"RHEOSTAT_ROLLOUT_F": "25"}
    with Client.from_file(path, environ=environ, watch=False) as client:
        before = [client.is_enabled("f", key) for key in KEYS]
        # When the file changes
        path.write_text(yaml.safe_dump(document()) + "# changed\n")
        assert client.reload() is True
        # Then the same users are on: the rollout applies to the new flags too
        assert [client.is_enabled("f", key) for key in KEYS] == before
        assert 0.24 < sum(before) / len(before) < 0.26
