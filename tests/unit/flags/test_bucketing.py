"""Bucketing: golden vectors, uniformity, stable widening, independent salts, one scheme."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import chisquare

from rheostat import Context, FlagSet
from rheostat.flags.bucketing import BUCKETS, HASH_VERSIONS, bucket, bucketer
from rheostat.flags.compiler import compile_flags
from rheostat.flags.model import Flag, FlagType, Rule, Split

VECTORS = json.loads(
    (Path(__file__).parents[2] / "vectors" / "bucketing.json").read_text(encoding="utf-8")
)
KEYS = [f"user-{index:06d}" for index in range(100_000)]


def test_vectors_hold_at_least_a_thousand_cases() -> None:
    assert len(VECTORS["cases"]) >= 1000


@pytest.mark.parametrize("case", VECTORS["cases"][:50] + VECTORS["cases"][-10:], ids=repr)
def test_bucket_matches_the_reference_vectors_sample(case: dict[str, object]) -> None:
    assert bucket(str(case["salt"]), str(case["value"])) == case["bucket"]


def test_bucket_matches_every_reference_vector() -> None:
    # Given the vectors made by an independent MurmurHash3 implementation
    mismatches = [
        case for case in VECTORS["cases"] if bucket(case["salt"], case["value"]) != case["bucket"]
    ]
    # Then none differs
    assert mismatches == []


def test_unknown_hash_version_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown hash version 2"):
        bucket("salt", "value", version=2)
    with pytest.raises(ValueError, match="unknown hash version 0"):
        bucketer("salt", version=0)


def test_bucket_is_the_bucketer_of_its_salt_and_version() -> None:
    # Given every implemented hash version
    for version in HASH_VERSIONS:
        bucket_of = bucketer("salt", version=version)
        # Then bucket() answers what the bucketer answers, ASCII or not
        for value in ("user-1", "ünïcødé", "lone \ud800 surrogate", ""):
            assert bucket("salt", value, version=version) == bucket_of(value)


# A split of 1,000 variants of 0.1% each: the variant served names the bucket to within 100.
_FINE_VARIANTS = {f"v{index:03d}": f"v{index:03d}" for index in range(1000)}
_FINE_SPLIT = {"split": dict.fromkeys(_FINE_VARIANTS, 0.1)}
FINE = FlagSet.from_dict(
    {
        "version": 1,
        "flags": {
            "by-key": {"variants": _FINE_VARIANTS, "default": "v000", "salt": "custom-salt",
                       "rules": [{"serve": _FINE_SPLIT}]},
            "by-org": {"variants": _FINE_VARIANTS, "default": "v000",
                       "rules": [{"serve": {**_FINE_SPLIT, "by": "org"}}]},
        },
    }
)  # fmt: skip


def expected_variant(salt: str, value: str) -> str:
    return f"v{bucket(salt, value) // 100:03d}"


def test_the_compiled_engine_splits_exactly_as_bucket_says() -> None:
    # Given 100,000 ASCII keys and some that are not
    keys = [*KEYS, "ünïcødé", "日本語-ユーザー", "emoji-\U0001f600", "lone-\udc80-surrogate"]
    # When the engine evaluates fine-grained splits by key (custom salt) and by attribute
    by_key = [FINE.evaluate("by-key", Context(key=key)).variant for key in keys]
    by_org = [
        FINE.evaluate("by-org", Context(key="someone", attributes={"org": key})).variant
        for key in keys
    ]
    # Then every variant is the one bucket() gives: the two can never drift apart
    assert by_key == [expected_variant("custom-salt", key) for key in keys]
    assert by_org == [expected_variant("by-org", key) for key in keys]


@given(key=st.text(min_size=1, max_size=40))
def test_any_key_splits_as_bucket_says(key: str) -> None:
    # Given any text, surrogates included
    # Then the engine's split agrees with bucket()
    assert FINE.variant("by-key", Context(key=key)).name == expected_variant("custom-salt", key)


def test_the_compiler_honours_the_flag_hash_version() -> None:
    # Given a flag whose hash version this engine does not implement (built past validation)
    flag = Flag(
        key="f",
        type=FlagType.BOOL,
        variants={"on": True, "off": False},
        default="off",
        hash_version=2,
        rules=(Rule(conditions=(), serve=Split(weights=(("on", 50_000), ("off", 50_000)))),),
    )
    # When compiling it, then its version is looked up, not assumed
    with pytest.raises(ValueError, match="unknown hash version 2"):
        compile_flags({"f": flag}, {})


def test_buckets_are_uniform_over_a_fixed_key_set() -> None:
    # Given 100,000 fixed keys spread over 100 coarse bins
    counts = Counter(bucket("uniformity", key) // 1000 for key in KEYS)
    # When testing against a uniform distribution
    result = chisquare([counts[index] for index in range(100)])
    # Then uniformity is not rejected (fixed keys: the outcome is deterministic, not flaky)
    assert result.pvalue > 0.001
    assert min(counts.values()) > 800


def test_two_salts_bucket_independently() -> None:
    # Given the same keys bucketed under two salts at 50%
    first = [bucket("flag-a", key) < BUCKETS // 2 for key in KEYS]
    second = [bucket("flag-b", key) < BUCKETS // 2 for key in KEYS]
    # When cross-tabulating
    table = Counter(zip(first, second, strict=True))
    # Then each cell holds about a quarter, as for independent assignments
    result = chisquare([table[(a, b)] for a in (True, False) for b in (True, False)])
    assert result.pvalue > 0.001


def rollout_set(percent: float) -> FlagSet:
    rest = round(100 - percent, 3)
    return FlagSet.from_dict(
        {
            "version": 1,
            "flags": {
                "f": {
                    "default": "off",
                    "variants": {"on": True, "off": False},
                    "rules": [{"serve": {"split": {"on": percent, "off": rest}}}],
                }
            },
        }
    )


@given(
    low=st.integers(min_value=0, max_value=100_000),
    high=st.integers(min_value=0, max_value=100_000),
    keys=st.lists(st.text(min_size=1, max_size=40), min_size=1, max_size=30),
)
def test_widening_a_share_keeps_everyone_who_had_it(low: int, high: int, keys: list[str]) -> None:
    # Given a rollout at a smaller and a larger percentage
    small, large = rollout_set(min(low, high) / 1000), rollout_set(max(low, high) / 1000)
    for key in keys:
        context = Context(key=key)
        # Then whoever is in at the smaller share is still in at the larger one
        if small.is_enabled("f", context):
            assert large.is_enabled("f", context)


def test_a_25_percent_rollout_serves_about_25_percent() -> None:
    flags = rollout_set(25)
    share = sum(flags.is_enabled("f", Context(key=key)) for key in KEYS) / len(KEYS)
    assert 0.245 < share < 0.255


def test_changing_another_flag_never_reshuffles_a_split() -> None:
    # Given a split, then the same split beside a new flag and a new earlier-declared rule elsewhere
    before = rollout_set(40)
    document = before.to_dict()
    document["flags"]["other"] = {"variants": {"x": "1", "y": "2"}, "default": "x"}
    after = FlagSet.from_dict(document)
    # Then every key gets the same answer
    assert all(
        before.is_enabled("f", Context(key=key)) == after.is_enabled("f", Context(key=key))
        for key in KEYS[:5000]
    )
