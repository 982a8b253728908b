"""Which check gates are due: only while exposure is watched, a new stage's first, then spaced
by ``every``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rheostat.rollout import (
    CheckGate,
    CheckStage,
    HttpGate,
    MonitorStage,
    Plan,
    RampStage,
)
from rheostat.rollout.check_gates import check_gate_since, check_gates_watched, due_check_gates
from rheostat.rollout.state import Exposure, Phase, PlanState

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
PREFLIGHT = CheckGate(name="preflight", checks=("schema", "backups"))
OFTEN = CheckGate(name="often", checks=("schema",), every=timedelta(seconds=10))
PLAN = Plan(
    name="search",
    flag="hybrid_search",
    environment="production",
    stages=(
        CheckStage(checks=("backups",)),
        RampStage(percent=5),
        MonitorStage(duration=timedelta(hours=1)),
    ),
    gates=(PREFLIGHT, HttpGate(name="smoke", url="https://example.com/ready"), OFTEN),
)


def _baking(**changes: object) -> PlanState:
    fields: dict[str, object] = {
        "plan": PLAN,
        "phase": Phase.BAKING,
        "stage": 1,
        "stage_started_at": T0,
        "exposure": Exposure(percent=5),
        "last_progress_at": T0,
    }
    fields.update(changes)
    return PlanState(**fields)  # type: ignore[arg-type]


def _names(gates: tuple[CheckGate, ...]) -> list[str]:
    return [gate.name for gate in gates]


def test_a_stage_with_exposure_runs_every_check_gate_that_has_not_run_in_it() -> None:
    # Given a baking 5 % stage whose gates never ran, or ran before the stage began
    state = _baking()
    before = {"preflight": T0 - timedelta(seconds=1)}

    # When the controller asks which are due, Then both check gates are, in the plan's order
    assert _names(due_check_gates(state, {}, T0)) == ["preflight", "often"]
    assert _names(due_check_gates(state, before, T0)) == ["preflight", "often"]


def test_runs_are_spaced_by_every() -> None:
    state = _baking()
    ran = {"preflight": T0, "often": T0}
    assert _names(due_check_gates(state, ran, T0 + timedelta(seconds=9))) == []
    assert _names(due_check_gates(state, ran, T0 + timedelta(seconds=10))) == ["often"]
    assert _names(due_check_gates(state, ran, T0 + timedelta(seconds=59))) == ["often"]
    assert _names(due_check_gates(state, ran, T0 + timedelta(seconds=60))) == [
        "preflight",
        "often",
    ]


def test_every_zero_runs_at_every_pass() -> None:
    gate = CheckGate(name="each", checks=("schema",), every=timedelta(0))
    state = _baking(
        plan=Plan(name="p", flag="f", environment="e", stages=PLAN.stages, gates=(gate,))
    )
    assert _names(due_check_gates(state, {"each": T0}, T0)) == ["each"]


@pytest.mark.parametrize(
    "state",
    [
        _baking(phase=Phase.PAUSED),
        _baking(phase=Phase.PENDING, exposure=Exposure()),
        _baking(phase=Phase.ROLLING_BACK),
        _baking(phase=Phase.ROLLED_BACK, exposure=Exposure()),
        _baking(phase=Phase.COMPLETED, stage=3),
        _baking(phase=Phase.FAILED, exposure=Exposure()),
        _baking(phase=Phase.RUNNING, stage=0, exposure=Exposure()),  # the check stage, no exposure
    ],
    ids=lambda state: state.phase.value,
)
def test_no_check_gate_runs_without_exposure_to_watch(state: PlanState) -> None:
    assert not check_gates_watched(state)
    assert due_check_gates(state, {}, T0) == ()


def test_a_monitor_stage_and_an_approval_wait_with_exposure_are_watched() -> None:
    # Given a monitor stage (even without exposure) and an approval wait at 5 %
    monitoring = _baking(stage=2, exposure=Exposure())
    waiting = _baking(phase=Phase.AWAITING_APPROVAL, stage_started_at=None)

    # Then both run their check gates; the wait reads runs since it began waiting
    assert _names(due_check_gates(monitoring, {}, T0)) == ["preflight", "often"]
    assert _names(due_check_gates(waiting, {}, T0)) == ["preflight", "often"]
    assert check_gate_since(waiting) == T0
    assert check_gate_since(_baking(stage_started_at=T0 + timedelta(hours=1))) == T0 + timedelta(
        hours=1
    )
