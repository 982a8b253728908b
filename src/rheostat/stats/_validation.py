"""Checks of arguments. The ``check_`` and ``parse_`` ones are the only places the package raises.

They check configuration, never data: data that fail ``is_count`` give ``invalid_input``.
"""

from __future__ import annotations

import math

import numpy as np

from rheostat.errors import ValidationError
from rheostat.stats.results import Alternative, Worse

__all__ = [
    "check_alpha",
    "check_finite",
    "check_min_events",
    "check_min_n",
    "check_positive",
    "check_power",
    "check_probability",
    "is_count",
    "parse_alternative",
    "parse_worse",
]


def _fail(name: str, expected: str, value: object) -> ValidationError:
    return ValidationError(
        f"{name} must be {expected}, got {value!r}",
        details={"field": name, "expected": expected, "value": repr(value)},
    )


def _is_real(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_alpha(alpha: float, *, name: str = "alpha") -> float:
    """Return ``alpha`` as a float if it lies in the open interval (0, 0.5), else raise."""
    if not _is_real(alpha) or not 0.0 < alpha < 0.5:
        raise _fail(name, "a number in the open interval (0, 0.5)", alpha)
    return float(alpha)


def check_power(power: float) -> float:
    """Return ``power`` as a float if it lies in (0, 1), else raise."""
    if not _is_real(power) or not 0.0 < power < 1.0:
        raise _fail("power", "a number in the open interval (0, 1)", power)
    return float(power)


def check_probability(value: float, *, name: str = "previous_p_value") -> float:
    """Return ``value`` as a float if it lies in the closed interval [0, 1], else raise."""
    if not _is_real(value) or not 0.0 <= value <= 1.0:
        raise _fail(name, "a number in the closed interval [0, 1]", value)
    return float(value)


def check_positive(value: float, *, name: str) -> float:
    """Return ``value`` as a float if it is finite and > 0, else raise."""
    if not _is_real(value) or not math.isfinite(value) or value <= 0:
        raise _fail(name, "a finite number > 0", value)
    return float(value)


def check_finite(value: float, *, name: str, minimum: float = -math.inf) -> float:
    """Return ``value`` as a float if it is finite and >= ``minimum``, else raise."""
    if not _is_real(value) or not math.isfinite(value) or value < minimum:
        expected = "a finite number" if minimum == -math.inf else f"a finite number >= {minimum}"
        raise _fail(name, expected, value)
    return float(value)


def check_min_n(min_n: int) -> int:
    """Return ``min_n`` if it is an integer >= 2 (a variance needs two units), else raise."""
    if not isinstance(min_n, int) or isinstance(min_n, bool) or min_n < 2:
        raise _fail("min_n", "an integer >= 2", min_n)
    return min_n


def check_min_events(min_events: int) -> int:
    """Return ``min_events`` if it is an integer >= 0, else raise."""
    if not isinstance(min_events, int) or isinstance(min_events, bool) or min_events < 0:
        raise _fail("min_events", "an integer >= 0", min_events)
    return min_events


def parse_alternative(value: Alternative | str) -> Alternative:
    """Return ``value`` as an ``Alternative``, or raise naming the accepted values."""
    try:
        return Alternative(value)
    except ValueError:
        raise _fail("alternative", "'two-sided', 'greater' or 'less'", value) from None


def parse_worse(value: Worse | str) -> Worse:
    """Return ``value`` as a ``Worse``, or raise naming the accepted values."""
    try:
        return Worse(value)
    except ValueError:
        raise _fail("worse", "'higher' or 'lower'", value) from None


def is_count(value: object) -> bool:
    """Whether ``value`` is an integer (Python or numpy, not bool) >= 0."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool) and bool(value >= 0)
