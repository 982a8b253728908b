"""Shared by the gate modules: building a verdict and writing numbers into rules and messages."""

from __future__ import annotations

from typing import Any

from rheostat.rollout.verdicts import GateVerdict, Verdict

__all__ = ["format_number", "verdict_of"]


def verdict_of(gate: str, verdict: Verdict, message: str, **evidence: Any) -> GateVerdict:
    """A ``GateVerdict`` whose evidence is the keyword arguments."""
    return GateVerdict(gate=gate, verdict=verdict, message=message, evidence=evidence)


def format_number(value: float | None) -> str:
    """Six significant digits, no trailing zeros (``210``, ``0.001``); ``n/a`` for ``None``."""
    return "n/a" if value is None else f"{value:g}"
