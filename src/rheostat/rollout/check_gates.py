"""When a plan's check gates run: which suites are due, and which runs a look may read.

A check gate (``{name: preflight, checks: [schema, backups], every: 1m}``) is a suite the
controller runs itself, after a pass's tick, while the plan has exposure to watch; each look
then judges the newest run of the gate. Pure: the controller passes in when each gate last
ran and the time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from rheostat.rollout.model import CheckGate, MonitorStage
from rheostat.rollout.state import Phase, PlanState

__all__ = ["check_gate_since", "check_gates_watched", "due_check_gates"]

_WATCHING = frozenset({Phase.RUNNING, Phase.BAKING, Phase.AWAITING_APPROVAL})


def check_gate_since(state: PlanState) -> datetime | None:
    """Where the runs a look may read begin: when the current stage began or, for a stage
    that has not begun (it waits for approval), the plan's last transition."""
    return state.stage_started_at or state.last_progress_at


def check_gates_watched(state: PlanState) -> bool:
    """Whether the plan's check gates are watched now: it is running, baking or waiting for an
    approval with exposure on, or it is in a monitor stage. Paused, pending, rolling back or
    finished plans run no check gates."""
    if state.phase not in _WATCHING:
        return False
    stages = state.plan.stages
    monitoring = state.stage < len(stages) and isinstance(stages[state.stage], MonitorStage)
    return state.exposure.percent > 0 or monitoring


def due_check_gates(
    state: PlanState, last_runs: Mapping[str, datetime], now: datetime
) -> tuple[CheckGate, ...]:
    """The check gates whose suite the controller must run now, in the plan's order.

    Args:
        last_runs: when the newest stored run of each gate (by name) started; a gate
            missing from it never ran.

    A watched gate is due when it has no run since ``check_gate_since`` (a new stage needs a
    run of its own) or its newest run started ``every`` or longer before ``now``.
    """
    if not check_gates_watched(state):
        return ()
    since = check_gate_since(state)
    due = []
    for gate in state.plan.gates:
        if not isinstance(gate, CheckGate):
            continue
        last = last_runs.get(gate.name)
        if last is None or (since is not None and last < since) or now - last >= gate.every:
            due.append(gate)
    return tuple(due)
