"""Random documents and contexts: loading raises only InvalidDefinition; evaluation never raises."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rheostat import Context, Evaluation, FlagSet, InvalidDefinition, Variant
from rheostat.flags.model import Operator


@pytest.fixture(autouse=True)
def strict_engine() -> Iterator[None]:
    # Internal errors re-raise instead of being swallowed, so the fuzzer sees them.
    previous, FlagSet.strict = FlagSet.strict, True
    yield
    FlagSet.strict = previous


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=True),
    st.text(max_size=8),
    st.sampled_from(["1.2.3", "2026-01-01", "10.0.0.0/8", "10.1.2.3", "US", "^a", "("]),
)
attribute_values = st.one_of(
    scalars,
    st.lists(scalars, max_size=3),
    st.dictionaries(st.text(max_size=3), scalars, max_size=2),
)
conditions = st.fixed_dictionaries(
    {
        "attribute": st.sampled_from(["key", "country", "plan", "groups", "version", "ip", "at"]),
        "op": st.sampled_from([op.value for op in Operator]),
        "values": st.lists(scalars, max_size=3),
    },
    optional={"negate": st.booleans(), "case_insensitive": st.booleans()},
)
serves = st.one_of(
    st.sampled_from(["on", "off"]),
    st.builds(lambda on: {"split": {"on": on, "off": round(100 - on, 3)}}, st.integers(0, 100)),
)
rules = st.fixed_dictionaries({"when": st.lists(conditions, max_size=3), "serve": serves})
flags = st.fixed_dictionaries(
    {"default": st.sampled_from(["on", "off"]), "rules": st.lists(rules, max_size=3)},
    optional={
        "enabled": st.booleans(),
        "targets": st.lists(
            st.fixed_dictionaries(
                {
                    "variant": st.just("on"),
                    "keys": st.lists(st.text(max_size=4), max_size=2),
                    "groups": st.lists(st.text(max_size=4), max_size=2),
                }
            ),
            max_size=2,
        ),
    },
)
documents = st.fixed_dictionaries(
    {"flags": st.dictionaries(st.sampled_from(["a", "b", "c"]), flags, max_size=3)}
)
contexts = st.builds(
    Context,
    key=st.text(max_size=10),
    attributes=st.dictionaries(
        st.sampled_from(["country", "plan", "groups", "version", "ip", "at"]),
        attribute_values,
        max_size=4,
    ),
)


def load(document: dict[str, Any]) -> FlagSet | None:
    try:
        return FlagSet.from_dict(document)
    except InvalidDefinition:
        return None


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(document=documents, context=contexts, default=scalars)
def test_evaluation_never_raises(document: dict[str, Any], context: Context, default: Any) -> None:
    flag_set = load(document)
    if flag_set is None:
        return
    for key in [*flag_set.keys(), "missing"]:
        assert isinstance(flag_set.evaluate(key, context, default=default), Evaluation)
        assert isinstance(flag_set.is_enabled(key, context), bool)
        assert isinstance(flag_set.variant(key, context), Variant)


@settings(max_examples=200)
@given(
    document=st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
        ),
        max_leaves=12,
    )
)
def test_garbage_is_refused_with_invalid_definition(document: Any) -> None:
    # Then loading either succeeds or raises InvalidDefinition with a message, nothing else
    message = "loaded"
    try:
        FlagSet.from_dict(document)
    except InvalidDefinition as error:
        message = error.message
    assert message
