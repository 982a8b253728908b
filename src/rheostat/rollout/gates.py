"""Assess a gate: measurements in, a ``GateVerdict`` with its evidence out. Pure.

The metric providers and runners have done the I/O; here only the judging. Every function
returns a verdict for any data (a failed source is ``error``, nothing to judge is ``no_data``,
neither is ever a pass).

* ``assess_threshold``: a metric against an absolute limit, or a multiple of its baseline.
* ``assess_outcome``: a check suite, Python callable or HTTP probe's outcome.

Treatment against its concurrent holdback, and the sample-ratio check between them, are in
``rheostat.rollout.holdback``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rheostat.rollout._evidence import format_number as _number
from rheostat.rollout._evidence import verdict_of as _verdict
from rheostat.rollout.measurements import Measurement, Outcome
from rheostat.rollout.model import CallableGate, CheckGate, HttpGate, ThresholdGate
from rheostat.rollout.verdicts import GateVerdict, Verdict

__all__ = ["assess_outcome", "assess_threshold"]


# Threshold gates --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Rule:
    """One limit of a threshold gate: ``holds`` is ``None`` when it could not be judged."""

    text: str
    limit: float | None
    holds: bool | None
    why: str = ""


def _ratio_rule(
    gate: ThresholdGate, ratio: float, value: float, baseline: Measurement | None
) -> _Rule:
    text = f"{gate.measured} <= {_number(ratio)}x baseline"
    if baseline is None:
        return _Rule(text, None, None, "no baseline was measured")
    if baseline.error is not None:
        return _Rule(text, None, None, f"the baseline's source failed: {baseline.error}")
    base = baseline.value
    if not baseline.has_data or base is None:
        return _Rule(text, None, None, "the baseline has no data")
    if not (math.isfinite(base) and base > 0):
        return _Rule(text, None, None, f"the baseline is {base!r}; a ratio to it means nothing")
    limit = ratio * base
    return _Rule(f"{text} {_number(base)} = {_number(limit)}", limit, value <= limit)


def _threshold_rules(
    gate: ThresholdGate, value: float, baseline: Measurement | None
) -> list[_Rule]:
    rules = []
    if gate.max is not None:
        rules.append(_Rule(f"{gate.measured} <= {_number(gate.max)}", gate.max, value <= gate.max))
    if gate.min is not None:
        rules.append(_Rule(f"{gate.measured} >= {_number(gate.min)}", gate.min, value >= gate.min))
    if gate.max_ratio is not None:
        rules.append(_ratio_rule(gate, gate.max_ratio, value, baseline))
    return rules


def assess_threshold(
    gate: ThresholdGate, measurement: Measurement, *, baseline: Measurement | None = None
) -> GateVerdict:
    """Judge a metric against the gate's ``max``, ``min`` and ``max_ratio`` (to ``baseline``).

    A failed source is ``error``; no value or no units is ``no_data``; a broken limit is
    ``fail`` (even when another limit cannot be judged); a ratio limit without a usable
    baseline is ``inconclusive`` and says why; all limits kept is ``pass``.

    Evidence: ``value``, ``n``, ``at``, ``limit`` (of the broken rule, else the first), ``rule``
    (``"p95 <= 2x baseline 210 = 420"``; several joined by ``"; "``), ``baseline`` and
    ``rules`` (each ``{rule, limit, holds}``).
    """
    evidence: dict[str, Any] = {
        "metric": measurement.metric,
        "value": measurement.value,
        "n": measurement.n,
        "at": measurement.at.isoformat(),
        "baseline": None if baseline is None else baseline.value,
    }
    value = _value_to_judge(gate, measurement, evidence)
    if isinstance(value, GateVerdict):
        return value
    return _judge_rules(gate, value, _threshold_rules(gate, value, baseline), evidence)


def _value_to_judge(
    gate: ThresholdGate, measurement: Measurement, evidence: dict[str, Any]
) -> float | GateVerdict:
    """The value to judge, or the verdict when there is none (error, nonsense, no data)."""
    value = measurement.value
    if measurement.error is not None:
        message = f"{gate.measured}: the source failed: {measurement.error}"
        return _verdict(gate.name, Verdict.ERROR, message, error=measurement.error, **evidence)
    if (value is not None and not math.isfinite(value)) or measurement.n < 0:
        error = f"value {value!r} with n={measurement.n} is not a measurement"
        message = f"{gate.measured}: the source answered nonsense: {error}"
        return _verdict(gate.name, Verdict.ERROR, message, error=error, **evidence)
    if value is None or not measurement.has_data:
        return _verdict(gate.name, Verdict.NO_DATA, f"{gate.measured}: no data yet", **evidence)
    return float(value)


def _judge_rules(
    gate: ThresholdGate, value: float, rules: list[_Rule], evidence: dict[str, Any]
) -> GateVerdict:
    broken = [rule for rule in rules if rule.holds is False]
    unknown = [rule for rule in rules if rule.holds is None]
    shown = broken[0] if broken else (rules[0] if rules else None)
    evidence |= {
        "limit": None if shown is None else shown.limit,
        "rule": "; ".join(rule.text for rule in rules),
        "rules": [{"rule": rule.text, "limit": rule.limit, "holds": rule.holds} for rule in rules],
    }
    name = f"{gate.measured} = {_number(value)}"
    if broken:
        message = f"{name} breaks " + "; ".join(rule.text for rule in broken)
        return _verdict(gate.name, Verdict.FAIL, message, **evidence)
    if not rules:
        message = f"{name}, but the gate sets no limit"
        return _verdict(gate.name, Verdict.INCONCLUSIVE, message, **evidence)
    if unknown:
        message = f"{name}: cannot judge " + "; ".join(f"{r.text} ({r.why})" for r in unknown)
        return _verdict(gate.name, Verdict.INCONCLUSIVE, message, **evidence)
    message = f"{name} keeps {evidence['rule']}"
    return _verdict(gate.name, Verdict.PASS, message, **evidence)


# Check suites, callables, HTTP probes -----------------------------------------------------------


def _check_rule(gate: CheckGate) -> str:
    return f"checks {', '.join(gate.checks)} pass"


def _callable_rule(gate: CallableGate) -> str:
    return f"{gate.target}(percent) returns true within {_number(gate.timeout.total_seconds())}s"


def _http_rule(gate: HttpGate) -> str:
    timeout = _number(gate.timeout.total_seconds())
    return f"GET {gate.url} answers {gate.expect_status} within {timeout}s"


_RULE_BY_KIND: dict[type[Any], Callable[[Any], str]] = {
    CheckGate: _check_rule,
    CallableGate: _callable_rule,
    HttpGate: _http_rule,
}


def assess_outcome(gate: CheckGate | CallableGate | HttpGate, outcome: Outcome) -> GateVerdict:
    """Map a runner's outcome to a verdict: passed ``pass``, failed ``fail``, could not run
    ``error`` (never a pass), not run yet ``no_data``.

    Evidence: the ``rule`` (``"GET https://... answers 200 within 5s"``), ``at``, ``error`` and
    the runner's ``detail``.
    """
    rule = _RULE_BY_KIND[type(gate)](gate)
    evidence = {
        "rule": rule,
        "at": outcome.at.isoformat(),
        "error": outcome.error,
        "detail": dict(outcome.detail),
    }
    if outcome.error is not None:
        verdict, message = Verdict.ERROR, f"could not check {rule}: {outcome.error}"
    elif outcome.ok is None:
        verdict, message = Verdict.NO_DATA, f"not run yet: {rule}"
    elif outcome.ok:
        verdict, message = Verdict.PASS, f"held: {rule}"
    else:
        verdict, message = Verdict.FAIL, f"broken: {rule}"
    return _verdict(gate.name, verdict, message, **evidence)
