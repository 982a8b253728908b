"""A stored plan state reads back equal to the one written, through JSON text."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rheostat.errors import InvalidDefinition
from rheostat.rollout import GateVerdict, Plan, RampStage, ThresholdGate, Verdict
from rheostat.rollout.codec import state_from_dict, state_to_dict
from rheostat.rollout.machine import decide
from rheostat.rollout.state import Command, CommandKind, Observations, PlanState

PLAN = Plan(
    name="p",
    flag="f",
    environment="e",
    stages=tuple(
        RampStage(percent=p, bake=timedelta(minutes=5), holdback=p <= 50) for p in (1, 10, 50, 100)
    ),
    gates=(ThresholdGate(name="errors", metric="errors", max=0.01),),
)
T0 = datetime(2026, 12, 7, tzinfo=UTC)


@given(st.lists(st.sampled_from(list(Verdict)), max_size=30))
def test_every_state_decide_reaches_reads_back_equal(looks: list[Verdict]) -> None:
    # Given the states a plan goes through
    state = decide(
        PlanState(plan=PLAN),
        Observations(commands=(Command(kind=CommandKind.START, actor="a"),)),
        T0,
    ).state
    for minute, verdict in enumerate(looks, start=1):
        observed = Observations(verdicts=(GateVerdict(gate="errors", verdict=verdict),))
        state = decide(state, observed, T0 + timedelta(minutes=3 * minute)).state

        # When / Then each is written as JSON text and read back
        text = json.dumps(state_to_dict(state))
        assert state_from_dict(PLAN, json.loads(text)) == state


def test_a_document_that_is_not_a_state_is_refused() -> None:
    with pytest.raises(InvalidDefinition, match="not a stored plan state"):
        state_from_dict(PLAN, {"phase": "baking"})
