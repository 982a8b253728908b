"""Verdicts: what one look at one gate says, with its evidence. Pure values.

A gate whose metric source failed is an ``error`` (counted against the plan's error limit,
never a pass); a gate with nothing to judge yet is ``no_data`` (its own state, with a policy
after a grace period: never silently a pass, never silently a rollback).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["GateVerdict", "Verdict", "worst_of"]


class Verdict(StrEnum):
    """The outcome of one look at one gate."""

    PASS = "pass"  # noqa: S105  # a verdict, not a password
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"
    ERROR = "error"
    NO_DATA = "no_data"


_SEVERITY = {
    Verdict.PASS: 0,
    Verdict.NO_DATA: 1,
    Verdict.INCONCLUSIVE: 2,
    Verdict.ERROR: 3,
    Verdict.FAIL: 4,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class GateVerdict:
    """One look at one gate.

    Attributes:
        gate: the gate's name in the plan.
        verdict: pass, fail, inconclusive, error or no_data.
        message: one human sentence (what was compared, what came out).
        evidence: the facts behind it, JSON-ready: values, interval, sample sizes, the rule.
    """

    gate: str
    verdict: Verdict
    message: str = ""
    evidence: Mapping[str, Any] = field(default_factory=dict)


def worst_of(verdicts: Iterable[Verdict]) -> Verdict:
    """The most severe verdict (fail > error > inconclusive > no_data > pass); pass if none."""
    return max(verdicts, key=_SEVERITY.__getitem__, default=Verdict.PASS)
