"""Every plan a document can hold reads back unchanged from its canonical document."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from rheostat.rollout import (
    ApprovalStage,
    BackfillStage,
    CallableGate,
    CheckGate,
    CheckStage,
    Gate,
    GateLimits,
    GateMode,
    HoldbackGate,
    HttpGate,
    InconclusivePolicy,
    MonitorStage,
    NoDataPolicy,
    OnFailure,
    Plan,
    RampStage,
    Stage,
    ThresholdGate,
    WaitUntilStage,
    plan_from_dict,
    plan_from_text,
    plan_to_dict,
)

keys = st.from_regex(r"[a-z][a-z0-9_-]{0,12}", fullmatch=True)
key_lists = st.lists(keys, min_size=1, max_size=3, unique=True).map(tuple)
durations = st.integers(0, 3650 * 86_400).map(lambda seconds: timedelta(seconds=seconds))
positive_durations = st.integers(1, 3650 * 86_400).map(lambda seconds: timedelta(seconds=seconds))
percents = st.integers(0, 100_000).map(lambda thousandths: thousandths / 1000)
numbers = st.floats(allow_nan=False, allow_infinity=False, width=64)
moments = st.datetimes(
    min_value=datetime(1970, 1, 1),  # noqa: DTZ001  # hypothesis bounds are naive
    max_value=datetime(9998, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)
modes = st.sampled_from(GateMode)

other_stages: st.SearchStrategy[Stage] = st.one_of(
    st.builds(CheckStage, checks=key_lists),
    st.builds(BackfillStage, job=keys, verify=keys),
    st.builds(
        ApprovalStage,
        note=st.none() | st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=20),
    ),
    st.builds(MonitorStage, duration=positive_durations),
    st.builds(WaitUntilStage, at=moments),
)
ramps = st.builds(
    RampStage,
    percent=percents,
    bake=durations,
    holdback=st.booleans(),
    approval=st.booleans(),
    segments=st.sampled_from([(), ("internal",), ("beta", "staff")]),
)


@st.composite
def stage_lists(draw: st.DrawFn) -> tuple[Stage, ...]:
    """Stages whose ramps never lower an audience's exposure, with holdbacks that fit."""
    stages: list[Stage] = draw(st.lists(other_stages | ramps, min_size=1, max_size=8))
    by_audience: dict[tuple[str, ...], list[float]] = {}
    for stage in stages:
        if isinstance(stage, RampStage):
            by_audience.setdefault(stage.segments, []).append(stage.percent)
    ordered = {audience: iter(sorted(found)) for audience, found in by_audience.items()}
    result = []
    for stage in stages:
        if isinstance(stage, RampStage):
            percent = next(ordered[stage.segments])
            stage = RampStage(
                percent=percent,
                bake=stage.bake,
                holdback=stage.holdback and percent <= 50,
                approval=stage.approval,
                segments=stage.segments,
            )
        result.append(stage)
    return tuple(result)


@st.composite
def threshold_gates(draw: st.DrawFn, name: str) -> Gate:
    low, high = sorted([draw(numbers), draw(numbers)])
    prometheus = draw(st.booleans())
    return ThresholdGate(
        name=name,
        metric=draw(keys),
        mode=draw(modes),
        max=draw(st.none() | st.just(high)),
        min=draw(st.just(low)),
        max_ratio=None if prometheus else draw(st.none() | st.floats(0.001, 1000)),
        source="prometheus" if prometheus else "builtin",
        query=draw(st.just("rate(errors[5m])")) if prometheus else None,
        hard=draw(st.booleans()),
    )


def gate_kinds(name: str) -> st.SearchStrategy[Gate]:
    return st.one_of(
        threshold_gates(name),
        st.builds(
            HoldbackGate,
            name=st.just(name),
            metric=keys,
            mode=modes,
            worse=st.sampled_from(["higher", "lower"]),
            tolerance=st.floats(0, 1e6),
            relative=st.booleans(),
            alpha=st.floats(0.0001, 0.5),
            min_n=st.integers(1, 10**6),
            hard=st.booleans(),
        ),
        st.builds(CheckGate, name=st.just(name), checks=key_lists, mode=modes, every=durations),
        st.builds(
            CallableGate,
            name=st.just(name),
            target=st.just("pkg.checks:validate"),
            mode=modes,
            timeout=positive_durations,
        ),
        st.builds(
            HttpGate,
            name=st.just(name),
            url=st.just("https://example.com/health?deep=1"),
            mode=modes,
            expect_status=st.integers(100, 599),
            timeout=positive_durations,
        ),
    )


gate_lists = st.lists(keys, max_size=4, unique=True).flatmap(
    lambda names: st.tuples(*(gate_kinds(name) for name in names))
)
limits = st.builds(
    GateLimits,
    failure_limit=st.integers(0, 100),
    error_limit=st.integers(1, 100),
    inconclusive_timeout=positive_durations,
    inconclusive_policy=st.sampled_from(InconclusivePolicy),
    no_data_grace=durations,
    no_data_policy=st.sampled_from(NoDataPolicy),
    stale_after=positive_durations,
)


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    on_failure = draw(st.sampled_from(OnFailure))
    gradual: dict[str, Any] = {}
    if on_failure is OnFailure.GRADUAL:
        steps = draw(st.lists(st.integers(1, 99_999), max_size=4, unique=True))
        gradual = {
            "gradual_steps": (*(step / 1000 for step in sorted(steps, reverse=True)), 0.0),
            "gradual_bake": draw(durations),
        }
    return Plan(
        name=draw(keys),
        flag=draw(keys),
        environment=draw(keys),
        stages=draw(stage_lists()),
        gates=draw(gate_lists),
        on_failure=on_failure,
        limits=draw(limits),
        **gradual,
    )


@given(plans())
def test_the_canonical_document_reads_back_to_the_same_plan(plan: Plan) -> None:
    assert plan_from_dict(plan_to_dict(plan)) == plan


@given(plans())
def test_the_canonical_document_survives_json_text(plan: Plan) -> None:
    text = json.dumps(plan_to_dict(plan), ensure_ascii=False)
    assert plan_from_text(text, name_hint="plan.json") == plan
