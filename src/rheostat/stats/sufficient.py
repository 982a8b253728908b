"""Sufficient statistics of one arm of one metric: all the tests need, mergeable by addition.

The unit is the key the flag hashes on (usually the user), and every value is per unit. Merge
only disjoint units, each with its final value. Construction never raises: data that fail
validation make ``is_valid`` false, and the tests then answer ``invalid_input``.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from rheostat.errors import ValidationError
from rheostat.stats._validation import is_count

__all__ = ["ProportionStats", "SampleStats"]

# Float cancellation in ``sum_squares - sum**2 / n`` can leave a tiny negative number where the
# true centred sum of squares is 0; below this share of ``sum_squares`` it is clamped to 0.
_CANCELLATION_SLACK = 1e-9


def _is_finite_real(value: object) -> bool:
    return (
        isinstance(value, int | float | np.integer | np.floating)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def _centred_sum_squares(n: int, total: float, sum_squares: float) -> float | None:
    """Return ``sum((y - mean)**2)`` clamped at 0, or ``None`` if the three numbers disagree."""
    if not (is_count(n) and _is_finite_real(total) and _is_finite_real(sum_squares)):
        return None
    if n == 0:
        return 0.0 if total == 0 and sum_squares == 0 else None
    squared_mean_term = float(total) * (float(total) / n)
    centred = float(sum_squares) - squared_mean_term
    # Relative slack for cancellation, plus an absolute one for values so small that their
    # squares fall into the subnormal range and lose precision (found by hypothesis).
    slack = _CANCELLATION_SLACK * max(float(sum_squares), squared_mean_term)
    slack += n * sys.float_info.min
    if not math.isfinite(centred) or centred < -slack:
        return None
    return max(centred, 0.0)


@dataclass(frozen=True, slots=True)
class SampleStats:
    """``n`` units with values ``y_i``: ``sum = sum(y_i)``, ``sum_squares = sum(y_i**2)``.

    Attributes:
        n: number of units.
        sum: sum of the units' values.
        sum_squares: sum of the squared values.
    """

    n: int
    sum: float
    sum_squares: float

    @classmethod
    def of(cls, values: Iterable[float]) -> SampleStats:
        """Summarise per-unit values (float64); values too large to square make it invalid."""
        array = np.asarray(list(values), dtype=np.float64)
        with np.errstate(over="ignore", invalid="ignore"):  # an inf sum is caught by is_valid
            return cls(len(array), float(np.sum(array)), float(np.sum(array * array)))

    def merge(self, other: SampleStats) -> SampleStats:
        """Return the statistics of both (disjoint) samples together."""
        return SampleStats(
            self.n + other.n, self.sum + other.sum, self.sum_squares + other.sum_squares
        )

    @property
    def is_valid(self) -> bool:
        """Whether the numbers can come from real data (integer n >= 0, finite, consistent)."""
        return _centred_sum_squares(self.n, self.sum, self.sum_squares) is not None

    @property
    def mean(self) -> float | None:
        """``sum / n``; ``None`` without units or for invalid data."""
        if not self.is_valid or self.n == 0:
            return None
        return float(self.sum) / self.n

    @property
    def variance(self) -> float | None:
        """Sample variance ``(sum_squares - sum**2/n) / (n - 1)``; ``None`` below 2 units."""
        centred = _centred_sum_squares(self.n, self.sum, self.sum_squares)
        if centred is None or self.n < 2:  # a variance needs two units
            return None
        return centred / (self.n - 1)


def _as_success(value: object, index: int) -> int:
    if value in (0, 1) and not isinstance(value, str):
        return int(value)  # 0, 1, True, False, 0.0, 1.0
    raise ValidationError(
        f"values[{index}] must be 0, 1 or a bool, got {value!r}",
        details={"field": f"values[{index}]", "value": repr(value)},
    )


@dataclass(frozen=True, slots=True)
class ProportionStats:
    """``n`` units of which ``successes`` had the event (made an error, converted).

    Attributes:
        n: number of units.
        successes: units with the event.
    """

    n: int
    successes: int

    @classmethod
    def of(cls, values: Iterable[object]) -> ProportionStats:
        """Summarise per-unit outcomes given as 0/1 or bools.

        Raises:
            ValidationError: a value is not 0, 1, True or False (its index is named).
        """
        outcomes = [_as_success(value, index) for index, value in enumerate(values)]
        return cls(len(outcomes), sum(outcomes))

    def merge(self, other: ProportionStats) -> ProportionStats:
        """Return the statistics of both (disjoint) samples together."""
        return ProportionStats(self.n + other.n, self.successes + other.successes)

    @property
    def is_valid(self) -> bool:
        """Whether ``n`` and ``successes`` are integers with ``0 <= successes <= n``."""
        return is_count(self.n) and is_count(self.successes) and self.successes <= self.n

    @property
    def mean(self) -> float | None:
        """The proportion ``successes / n``; ``None`` without units or for invalid data."""
        if not self.is_valid or self.n == 0:
            return None
        return int(self.successes) / int(self.n)

    @property
    def variance(self) -> float | None:
        """Per-unit variance ``m (1 - m)`` (no ``n/(n-1)``); ``None`` without units."""
        mean = self.mean
        return None if mean is None else mean * (1.0 - mean)
