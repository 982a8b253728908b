"""Judging gates: counting looks against the plan's limits, and acting on a failure.

Argo Rollouts' semantics: a gate fails after more than ``failure_limit`` failing looks in a
stage or ``error_limit`` errors in a row; no data is its own state with a policy after its
grace. ``observe`` gates are recorded and never act; ``pause`` gates hold for a human;
``rollback`` gates roll back (a ``hard`` one kills the flag at once).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from rheostat.rollout.model import Gate, GateMode, NoDataPolicy, OnFailure
from rheostat.rollout.state import STAGE_TALLY, Alert, GateTally, KillFlag, Observations
from rheostat.rollout.stopping import pause_plan, start_rollback
from rheostat.rollout.tick import Tick, iso
from rheostat.rollout.verdicts import GateVerdict, Verdict

__all__ = ["assignment_broken", "judge_gates", "waiting_gates"]


def judge_gates(tick: Tick, observations: Observations) -> bool:
    """Count this tick's looks; act on a failing gate. Returns whether the plan stopped."""
    looks = {verdict.gate: verdict for verdict in observations.verdicts}
    plan = tick.state.plan
    tallies = {
        gate.name: _count(tick.state.tallies.get(gate.name, GateTally()), looks, gate, tick.now)
        for gate in plan.gates
    }
    kept = {name: tally for name, tally in tick.state.tallies.items() if name == STAGE_TALLY}
    tick.move(tallies={**kept, **tallies})
    for gate in sorted(plan.gates, key=_severity_order):
        failure = _failure(gate, tallies[gate.name], looks.get(gate.name), tick)
        if failure is not None and _act_on_failure(tick, gate, failure):
            return True
    return False


def _severity_order(gate: Gate) -> int:
    """Hard gates first, then rollback, pause and observe gates."""
    if getattr(gate, "hard", False):
        return 0
    return {GateMode.ROLLBACK: 1, GateMode.PAUSE: 2, GateMode.OBSERVE: 3}[gate.mode]


def _count(
    tally: GateTally, looks: Mapping[str, GateVerdict], gate: Gate, now: datetime
) -> GateTally:
    look = looks.get(gate.name)
    verdict = Verdict.NO_DATA if look is None else look.verdict
    if verdict is Verdict.ERROR:
        return replace(tally, consecutive_errors=tally.consecutive_errors + 1)
    if verdict is Verdict.NO_DATA:
        return replace(tally, no_data_since=tally.no_data_since or now)
    failures = tally.failures + (verdict is Verdict.FAIL)
    return GateTally(failures=failures)


def _failure(
    gate: Gate, tally: GateTally, look: GateVerdict | None, tick: Tick
) -> dict[str, Any] | None:
    """Why this gate fails the stage now (its evidence), or ``None``."""
    limits = tick.state.plan.limits
    evidence = {"gate": gate.name, "mode": gate.mode.value}
    if look is not None:
        evidence |= {"verdict": look.verdict.value, "message": look.message, **look.evidence}
    if tally.failures > limits.failure_limit:
        return evidence | {"failures": tally.failures, "failure_limit": limits.failure_limit}
    if tally.consecutive_errors >= limits.error_limit:
        return evidence | {"consecutive_errors": tally.consecutive_errors}
    if _no_data_for(tally, tick.now) >= limits.no_data_grace:
        if limits.no_data_policy is NoDataPolicy.ROLLBACK:
            return evidence | {"no_data_since": iso(tally.no_data_since)}
        if limits.no_data_policy is NoDataPolicy.WARN and not tally.warned:
            _warn_no_data(tick, gate, tally)
    return None


def _no_data_for(tally: GateTally, now: datetime) -> timedelta:
    return timedelta(0) if tally.no_data_since is None else now - tally.no_data_since


def _warn_no_data(tick: Tick, gate: Gate, tally: GateTally) -> None:
    message = f"gate {gate.name} has had no data since {iso(tally.no_data_since)}"
    tick.actions.append(Alert(kind="gate.no_data", severity="warning", message=message))
    tallies = dict(tick.state.tallies)
    tallies[gate.name] = replace(tally, warned=True)
    tick.move(tallies=tallies)


def _act_on_failure(tick: Tick, gate: Gate, evidence: dict[str, Any]) -> bool:
    message = f"gate {gate.name} failed"
    if gate.mode is GateMode.OBSERVE:
        tick.event("gate.observed", f"{message} (observe only: no action)", evidence)
        return False
    if gate.mode is GateMode.PAUSE:
        pause_plan(tick, message, evidence)
        return True
    if getattr(gate, "hard", False):
        tick.actions.append(KillFlag(reason=f"{tick.state.plan.name}: {message} (circuit breaker)"))
        start_rollback(tick, message, evidence, OnFailure.IMMEDIATE)
        return True
    start_rollback(tick, message, evidence, tick.state.plan.on_failure)
    return True


def assignment_broken(tick: Tick, assignment: GateVerdict | None) -> bool:
    if assignment is None or assignment.verdict is not Verdict.FAIL:
        return False
    message = f"assignment is broken (sample ratio mismatch): {assignment.message}"
    pause_plan(tick, message, dict(assignment.evidence))
    return True


def waiting_gates(tick: Tick, observations: Observations) -> list[str]:
    """The acting gates whose look is not a pass (inconclusive, an error below its limit, or
    no data), which hold the stage; with the ``warn`` no-data policy, no data does not."""
    looks = {verdict.gate: verdict.verdict for verdict in observations.verdicts}
    warn_only = tick.state.plan.limits.no_data_policy is NoDataPolicy.WARN
    waiting = []
    for gate in tick.state.plan.gates:
        look = looks.get(gate.name, Verdict.NO_DATA)
        if gate.mode is GateMode.OBSERVE or look is Verdict.PASS:
            continue
        if not (warn_only and look is Verdict.NO_DATA):
            waiting.append(gate.name)
    return waiting
