"""``QuantileSketch``: latency quantiles from counts in logarithmic bins, never raw samples.

The DDSketch scheme (Masson, Rim and Lee, VLDB 2019): a value ``x > 0`` falls in bin
``ceil(log(x) / log(gamma))`` with ``gamma = (1 + a) / (1 - a)``, and a bin answers for its
values with ``2 * gamma**i / (gamma + 1)``, within relative error ``a`` of each of them. Every
process uses the same ``a`` (1 %), so sketches add up bin by bin: the SDK sends the bins of
each window, the store adds the counts of equal bins, a gate asks the sum for its p95. Memory
is bounded by the range of the values (a latency from 0.1 ms to 1 min fills about 670 bins),
and capped at ``MAX_BINS`` per sign by folding the lowest bins together (the high quantiles a
gate reads stay exact to ``a``).

Negative values get bins of their own (mirrored); values within ``MIN_VALUE`` of zero count as
zero. Pure: stdlib only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import NoReturn

from rheostat.errors import ValidationError

__all__ = [
    "MAX_BINS",
    "MAX_INDEX",
    "MIN_INDEX",
    "MIN_VALUE",
    "RELATIVE_ACCURACY",
    "QuantileSketch",
    "bin_of",
    "value_of",
]

RELATIVE_ACCURACY = 0.01
"""Every quantile is within 1 % of a value of the data: the one mapping all processes share."""
MIN_VALUE = 1e-9
"""Smaller magnitudes count as zero."""
MAX_BINS = 2048
"""Bins kept per sign; beyond, the lowest are folded into one (high quantiles stay exact)."""

_GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
_LOG_GAMMA = math.log(_GAMMA)
MAX_INDEX = math.ceil(math.log(1e12) / _LOG_GAMMA)
"""The largest bin index (1e12, the largest value a metric window accepts)."""
MIN_INDEX = math.ceil(math.log(MIN_VALUE) / _LOG_GAMMA)
"""The smallest bin index (``MIN_VALUE``)."""

Bins = dict[int, int]


def bin_of(magnitude: float) -> int:
    """The bin of a magnitude of at least ``MIN_VALUE``."""
    return max(MIN_INDEX, min(MAX_INDEX, math.ceil(math.log(magnitude) / _LOG_GAMMA)))


def value_of(index: int) -> float:
    """The value a bin answers with: within ``RELATIVE_ACCURACY`` of everything in it."""
    return 2 * _GAMMA**index / (_GAMMA + 1)


@dataclass(slots=True)
class QuantileSketch:
    """A mergeable quantile sketch; ``add`` and ``merge`` change it in place.

    Attributes:
        positive, negative: counts per bin (negative values by the bin of their magnitude).
        zeros: how many values were within ``MIN_VALUE`` of zero.
    """

    positive: Bins = field(default_factory=dict)
    negative: Bins = field(default_factory=dict)
    zeros: int = 0

    @property
    def count(self) -> int:
        """How many values the sketch holds."""
        return self.zeros + sum(self.positive.values()) + sum(self.negative.values())

    def add(self, value: float, count: int = 1) -> None:
        """Count ``value`` (a finite number) ``count`` times."""
        magnitude = abs(value)
        if magnitude < MIN_VALUE:
            self.zeros += count
            return
        bins = self.positive if value > 0 else self.negative
        index = bin_of(magnitude)
        bins[index] = bins.get(index, 0) + count
        if len(bins) > MAX_BINS:
            _fold_lowest(bins)

    def merge(self, other: QuantileSketch) -> None:
        """Add ``other``'s counts to this sketch."""
        self.zeros += other.zeros
        for mine, theirs in ((self.positive, other.positive), (self.negative, other.negative)):
            for index, count in theirs.items():
                mine[index] = mine.get(index, 0) + count
            while len(mine) > MAX_BINS:
                _fold_lowest(mine)

    def quantile(self, q: float) -> float | None:
        """The ``q``-quantile (0 to 1), within ``RELATIVE_ACCURACY``; ``None`` when empty."""
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"q must be from 0 to 1, got {q}")
        total = self.count
        if total == 0:
            return None
        rank = q * (total - 1)
        seen = 0
        for index in sorted(self.negative, reverse=True):  # the most negative first
            seen += self.negative[index]
            if seen > rank:
                return -value_of(index)
        seen += self.zeros
        if seen > rank:
            return 0.0
        for index in sorted(self.positive):
            seen += self.positive[index]
            if seen > rank:
                return value_of(index)
        return value_of(max(self.positive))  # rounding at q = 1

    def to_document(self) -> dict[str, object]:
        """The wire form: ``{"accuracy", "zeros", "positive": [[bin, count]...], "negative"}``."""
        return {
            "accuracy": RELATIVE_ACCURACY,
            "zeros": self.zeros,
            "positive": [[index, count] for index, count in sorted(self.positive.items())],
            "negative": [[index, count] for index, count in sorted(self.negative.items())],
        }

    @classmethod
    def from_document(cls, document: object, *, path: str = "sketch") -> QuantileSketch:
        """Read the wire form back, checked.

        Raises:
            ValidationError: naming the field (under ``path``) and what is wrong.
        """
        if not isinstance(document, Mapping):
            _refuse(path, f"must be an object, got {type(document).__name__}")
        unknown = set(document) - {"accuracy", "zeros", "positive", "negative"}
        if unknown:
            _refuse(f"{path}.{min(unknown)}", "is not a field of a sketch")
        accuracy = document.get("accuracy", RELATIVE_ACCURACY)
        if accuracy != RELATIVE_ACCURACY:
            _refuse(
                f"{path}.accuracy",
                f"must be {RELATIVE_ACCURACY} (the mapping every process shares), got {accuracy!r}",
            )
        return cls(
            positive=_bins(document.get("positive", []), f"{path}.positive"),
            negative=_bins(document.get("negative", []), f"{path}.negative"),
            zeros=_count(document.get("zeros", 0), f"{path}.zeros", minimum=0),
        )

    @classmethod
    def of(cls, values: Iterable[float]) -> QuantileSketch:
        """A sketch of ``values``."""
        sketch = cls()
        for value in values:
            sketch.add(value)
        return sketch


def _fold_lowest(bins: Bins) -> None:
    lowest, second = sorted(bins)[:2]
    bins[second] += bins.pop(lowest)


def _bins(value: object, path: str) -> Bins:
    if not isinstance(value, list) or len(value) > MAX_BINS:
        _refuse(path, f"must be a list of at most {MAX_BINS} [bin, count] pairs")
    bins: Bins = {}
    for position, pair in enumerate(value):
        where = f"{path}[{position}]"
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            _refuse(where, f"must be a [bin, count] pair, got {pair!r}")
        index = _count(pair[0], f"{where}[0]", minimum=MIN_INDEX, maximum=MAX_INDEX)
        if index in bins:
            _refuse(f"{where}[0]", f"repeats bin {index}")
        bins[index] = _count(pair[1], f"{where}[1]", minimum=1)
    return bins


def _count(value: object, path: str, *, minimum: int, maximum: int = 2**53) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        _refuse(path, f"must be an integer from {minimum} to {maximum}, got {value!r}")
    return value


def _refuse(path: str, reason: str) -> NoReturn:
    raise ValidationError(f"{path} {reason}", details={"field": path})
