"""Treatment against its concurrent holdback: the sequential guard and the sample-ratio check.

Pure. ``holdback_settings`` freezes each holdback gate's guard settings when the plan starts
(the plan's alpha split over its holdback gates); ``assess_holdback`` asks the always-valid
sequential guard (``rheostat.stats.assess_guard``) at every look on cumulative data, so looking
after every interval stays honest; ``assess_assignment`` checks that units split between the
arms as intended. Only bad configuration raises ``ValidationError``, when a plan starts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from rheostat.errors import ValidationError
from rheostat.rollout._evidence import format_number as _number
from rheostat.rollout._evidence import verdict_of as _verdict
from rheostat.rollout.measurements import ArmMeasurement
from rheostat.rollout.model import Gate, HoldbackGate
from rheostat.rollout.verdicts import GateVerdict, Verdict
from rheostat.stats import (
    Caveat,
    GuardSettings,
    GuardStatus,
    GuardVerdict,
    SRMResult,
    Worse,
    assess_guard,
    sequential_srm_test,
)

__all__ = [
    "ASSIGNMENT_GATE",
    "SRM_ALPHA",
    "assess_assignment",
    "assess_holdback",
    "holdback_settings",
    "holdback_settings_by_gate",
]

ASSIGNMENT_GATE = "assignment"
"""The gate name of the sample-ratio check: a failure pauses the plan (assignment is broken,
not the change), it does not roll back."""

SRM_ALPHA = 0.001
"""The sample-ratio check runs at every look: an always-valid test
(``rheostat.stats.sequential_srm_test``) whose chance of a false mismatch over ALL the looks of
a stage is at most 0.001. Pearson's chi-square at p < 0.001 looked at as often falsely paused
3-4.5 % of A/A canaries (``rheostat simulate --scenario aa --runs 200``)."""


def holdback_settings(
    gate: HoldbackGate, *, gates_in_plan: int, holdback_stages: int = 1, n_star: float = 10_000
) -> GuardSettings:
    """The gate's guard settings, built once when the plan starts and never changed after.

    Bonferroni: the gate's ``alpha`` is the plan's family-wise level, split evenly over the
    plan's holdback gates and over the stages that keep a holdback (each stage's guard starts
    afresh from the stage's own windows), so the false-rollback rate of the whole plan stays at
    most ``alpha``.

    Args:
        gate: the holdback gate.
        gates_in_plan: how many holdback gates the plan has (this one included).
        holdback_stages: how many of the plan's stages keep a holdback (at least 1).
        n_star: planned total units (both arms) at the end of the second ramp stage; never
            derived from outcomes. 10,000 when unknown.

    Raises:
        ValidationError: ``gates_in_plan`` below 1, or a setting outside its range.
    """
    for name, value in (("gates_in_plan", gates_in_plan), ("holdback_stages", holdback_stages)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValidationError(
                f"{name} must be an integer >= 1, got {value!r}",
                details={"field": name, "expected": ">= 1", "value": repr(value)},
            )
    return GuardSettings(
        worse=_worse_of(gate),
        relative=gate.relative,
        alpha=gate.alpha / (gates_in_plan * holdback_stages),
        n_star=n_star,
        tolerance=gate.tolerance,
        min_n=gate.min_n,
    )


def _worse_of(gate: HoldbackGate) -> Worse:
    if gate.worse not in set(Worse):
        raise ValidationError(
            f"gate {gate.name!r}: worse must be 'higher' or 'lower', got {gate.worse!r}",
            details={"field": "worse", "expected": "higher | lower", "value": repr(gate.worse)},
        )
    return Worse(gate.worse)


def holdback_settings_by_gate(
    gates: Iterable[Gate], *, holdback_stages: int = 1, n_star: float = 10_000
) -> dict[str, GuardSettings]:
    """``holdback_settings`` for each holdback gate among ``gates``, by gate name.

    Raises:
        ValidationError: a setting outside its range.
    """
    holdbacks = [gate for gate in gates if isinstance(gate, HoldbackGate)]
    return {
        gate.name: holdback_settings(
            gate, gates_in_plan=len(holdbacks), holdback_stages=holdback_stages, n_star=n_star
        )
        for gate in holdbacks
    }


def _finite_or_none(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _holdback_rule(gate: HoldbackGate, settings: GuardSettings) -> str:
    if settings.relative:
        harm = "(treatment - holdback) / |holdback|"
        if settings.worse is Worse.LOWER:
            harm = "(holdback - treatment) / |holdback|"
    else:
        harm = "treatment - holdback" if settings.worse is Worse.HIGHER else "holdback - treatment"
    return (
        f"{gate.metric}: {harm} <= {_number(settings.tolerance)}, "
        f"alpha {_number(settings.alpha)}, always-valid"
    )


def _arms_evidence(treatment: ArmMeasurement, holdback: ArmMeasurement) -> dict[str, Any]:
    return {
        "treatment_n": treatment.stats.n,
        "holdback_n": holdback.stats.n,
        "treatment_mean": treatment.stats.mean,
        "holdback_mean": holdback.stats.mean,
        "treatment_units": treatment.units,
        "holdback_units": holdback.units,
        "at": max(treatment.at, holdback.at).isoformat(),
    }


def _guard_evidence(guard: GuardVerdict) -> dict[str, Any]:
    lower, upper = _finite_or_none(guard.ci_lower), _finite_or_none(guard.ci_upper)
    return {
        "estimate": guard.estimate,
        "ci_lower": lower,
        "ci_upper": upper,
        "bound": lower if lower is not None else upper,
        "boundary": guard.boundary,
        "se": guard.se,
        "reason": None if guard.reason is None else str(guard.reason),
    }


def assess_holdback(
    gate: HoldbackGate,
    treatment: ArmMeasurement,
    holdback: ArmMeasurement,
    *,
    settings: GuardSettings,
) -> GateVerdict:
    """Has the change made the gate's metric worse than in the concurrent holdback?

    Asks ``rheostat.stats.assess_guard`` (holdback as control) on cumulative data since the
    plan started, with ``settings`` from ``holdback_settings``: its pass, fail and inconclusive
    become the verdict. A failed source for either arm is ``error``; an arm with no units is
    ``no_data``; arms of different kinds (a mean against a rate) are ``error``.

    Evidence: the ``rule`` (``"http_errors: treatment - holdback <= 0.001, alpha 0.025,
    always-valid"``), ``alpha``, ``tolerance``, ``estimate``, the always-valid interval
    ``ci_lower``/``ci_upper`` (``None`` at the open end) and its finite ``bound``,
    ``boundary`` (c1(N)), ``se``, ``reason``, and per arm ``*_n``, ``*_mean`` and ``*_units``.
    """
    evidence = {
        "metric": gate.metric,
        "rule": _holdback_rule(gate, settings),
        "alpha": settings.alpha,
        "tolerance": settings.tolerance,
    } | _arms_evidence(treatment, holdback)
    early = _holdback_without_data(gate, treatment, holdback, evidence)
    if early is not None:
        return early
    guard = assess_guard(holdback.stats, treatment.stats, settings)
    evidence |= _guard_evidence(guard)
    verdict = _VERDICT_BY_GUARD_STATUS[guard.status]
    return _verdict(gate.name, verdict, _holdback_message(gate, guard, evidence), **evidence)


def _holdback_without_data(
    gate: HoldbackGate,
    treatment: ArmMeasurement,
    holdback: ArmMeasurement,
    evidence: dict[str, Any],
) -> GateVerdict | None:
    errors = {
        arm: measured.error
        for arm, measured in (("treatment", treatment), ("holdback", holdback))
        if measured.error is not None
    }
    if errors:
        message = f"{gate.metric}: the source failed: " + "; ".join(
            f"{arm}: {error}" for arm, error in errors.items()
        )
        return _verdict(gate.name, Verdict.ERROR, message, error=errors, **evidence)
    if type(treatment.stats) is not type(holdback.stats):
        error = "treatment and holdback are of different kinds (a mean against a rate)"
        return _verdict(
            gate.name, Verdict.ERROR, f"{gate.metric}: {error}", error=error, **evidence
        )
    if treatment.stats.n == 0 or holdback.stats.n == 0:
        message = f"{gate.metric}: no data yet in " + (
            "the treatment" if treatment.stats.n == 0 else "the holdback"
        )
        return _verdict(gate.name, Verdict.NO_DATA, message, **evidence)
    return None


_VERDICT_BY_GUARD_STATUS = {
    GuardStatus.PASS: Verdict.PASS,
    GuardStatus.FAIL: Verdict.FAIL,
    GuardStatus.INCONCLUSIVE: Verdict.INCONCLUSIVE,
}


def _holdback_message(gate: HoldbackGate, guard: GuardVerdict, evidence: dict[str, Any]) -> str:
    arms = (
        f"treatment {_number(evidence['treatment_mean'])} "
        f"vs holdback {_number(evidence['holdback_mean'])}"
    )
    if guard.status is GuardStatus.INCONCLUSIVE:
        return f"{gate.metric}: {arms}; not enough evidence yet ({guard.reason})"
    bound = evidence["bound"]
    harm = bound if guard.ci_lower is not None and math.isfinite(guard.ci_lower) else -bound
    if guard.status is GuardStatus.FAIL:
        return f"{gate.metric} regressed: {arms}, worse by at least {_number(harm)}"
    return f"{gate.metric}: {arms}; no regression shown so far (harm bound {_number(harm)})"


# Assignment (sample-ratio mismatch) -------------------------------------------------------------


def assess_assignment(
    treatment_units: int,
    holdback_units: int,
    *,
    expected_ratio: float = 1.0,
    gate: str = ASSIGNMENT_GATE,
) -> GateVerdict:
    """Did assignment split units between treatment and holdback as intended?

    The always-valid sequential test (``rheostat.stats.sequential_srm_test``) at
    ``SRM_ALPHA``, so looking at every tick stays honest. A mismatch is ``fail``:
    assignment is broken, not the change, so the machine pauses the plan rather than judging
    the change on biased arms. No units is ``no_data``; too few to test (an expected count
    below 5) ``inconclusive``; counts that are not integers >= 0 ``error``.

    Args:
        treatment_units: units assigned to the treatment since the plan started.
        holdback_units: units assigned to the holdback since the plan started.
        expected_ratio: intended treatment units per holdback unit (1.0: equal-size holdback).
        gate: the verdict's gate name.

    Raises:
        ValidationError: ``expected_ratio`` not finite and > 0.
    """
    if not (math.isfinite(expected_ratio) and expected_ratio > 0):
        raise ValidationError(
            f"expected_ratio must be a finite number > 0, got {expected_ratio!r}",
            details={"field": "expected_ratio", "expected": "> 0", "value": repr(expected_ratio)},
        )
    result = sequential_srm_test(
        [treatment_units, holdback_units], [expected_ratio, 1.0], alpha=SRM_ALPHA
    )
    evidence = _assignment_evidence(treatment_units, holdback_units, expected_ratio, result)
    verdict, message = _assignment_outcome(result, evidence)
    return _verdict(gate, verdict, message, **evidence)


def _assignment_evidence(
    treatment_units: int, holdback_units: int, expected_ratio: float, result: SRMResult
) -> dict[str, Any]:
    return {
        "treatment_units": treatment_units,
        "holdback_units": holdback_units,
        "expected_ratio": expected_ratio,
        "rule": (
            f"treatment:holdback units = {_number(expected_ratio)}:1 "
            f"(always-valid sequential test, mismatch once the Bayes factor reaches "
            f"{_number(1 / SRM_ALPHA)})"
        ),
        "chi2": result.chi2,
        "p_value": result.p_value,
        "bayes_factor": result.bayes_factor,
        "reason": None if result.reason is None else str(result.reason),
    }


def _assignment_outcome(result: SRMResult, evidence: dict[str, Any]) -> tuple[Verdict, str]:
    units = (
        f"{evidence['treatment_units']} treatment vs {evidence['holdback_units']} holdback units"
    )
    if result.mismatch:
        return Verdict.FAIL, (
            f"sample-ratio mismatch: {units}, expected {_number(evidence['expected_ratio'])}:1 "
            f"(always-valid p = {_number(result.p_value)}); assignment is broken, not the change"
        )
    if result.reason is Caveat.NO_UNITS:
        return Verdict.NO_DATA, "no units assigned yet"
    if result.reason is Caveat.INVALID_INPUT:
        return Verdict.ERROR, f"unit counts are not integers >= 0: {units}"
    if result.reason is not None:
        return Verdict.INCONCLUSIVE, f"too few units to check the split yet: {units}"
    return Verdict.PASS, f"split as intended: {units} (always-valid p = {_number(result.p_value)})"
