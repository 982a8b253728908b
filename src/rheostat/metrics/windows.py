"""Metric windows: the sufficient statistics SDKs send, one flag variant and metric at a time.

A window is what a process saw of one metric for one variant of one flag during ``seconds``
from ``start``: for a proportion (errors, conversions) ``n`` trials and ``successes``; for a
mean (latency) ``n`` values, their ``sum`` and ``sum_squares``, and optionally a quantile
sketch of them (``p95 < 2x baseline``). Windows from many processes add
up, so ingest cost grows with the number of processes, not with traffic. Pure values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import NoReturn

from rheostat.errors import ValidationError
from rheostat.inputs import validate_text
from rheostat.metrics.sketch import QuantileSketch

__all__ = ["MAX_VALUE", "MAX_WINDOW_SECONDS", "MetricWindow", "WindowKind", "WindowTotals"]

MAX_VALUE = 1e12
"""The largest magnitude of one observation (as for experiments): sums of squares stay finite."""
MAX_WINDOW_SECONDS = 86_400
_NAME_LENGTH = 128
_ID_LENGTH = 128


class WindowKind(StrEnum):
    """What a window counts."""

    PROPORTION = "proportion"
    MEAN = "mean"


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowTotals:
    """Added-up sufficient statistics (a proportion keeps ``sum = sum_squares = successes``).

    Attributes:
        sketch: the values' quantile sketch, when every window added had one (and it was read).
    """

    kind: WindowKind
    n: int = 0
    sum: float = 0.0
    sum_squares: float = 0.0
    sketch: QuantileSketch | None = None

    def __add__(self, other: WindowTotals) -> WindowTotals:
        return WindowTotals(
            kind=self.kind,
            n=self.n + other.n,
            sum=self.sum + other.sum,
            sum_squares=self.sum_squares + other.sum_squares,
            sketch=_merged(self.sketch, other.sketch),
        )

    def quantile(self, q: float) -> float | None:
        """The ``q``-quantile of the values, from the sketch; ``None`` without one or data."""
        return None if self.sketch is None else self.sketch.quantile(q)


def _merged(first: QuantileSketch | None, second: QuantileSketch | None) -> QuantileSketch | None:
    if first is None or second is None:
        return first if second is None else second
    merged = QuantileSketch()
    merged.merge(first)
    merged.merge(second)
    return merged


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricWindow:
    """One window of one metric for one variant of one flag, checked when it is built.

    Attributes:
        id: optional, unique per environment: a window sent again with the same id (a retry)
            is not counted again.
        sketch: optional, mean windows only: a quantile sketch of the same ``n`` values.

    Raises:
        ValidationError: naming the field and what is wrong (``path`` prefixes the field).
    """

    flag: str
    variant: str
    metric: str
    start: datetime
    seconds: int
    kind: WindowKind
    n: int
    successes: int | None = None
    sum: float | None = None
    sum_squares: float | None = None
    id: str | None = None
    sketch: QuantileSketch | None = None
    path: str = "window"

    def __post_init__(self) -> None:
        for field_name in ("flag", "variant", "metric"):
            _name(getattr(self, field_name), f"{self.path}.{field_name}")
        if self.id is not None:
            _name(self.id, f"{self.path}.id", length=_ID_LENGTH)
        if self.start.tzinfo is None:
            _refuse(f"{self.path}.start", "must carry a time zone (RFC 3339, e.g. ...Z)")
        _integer(self.seconds, f"{self.path}.seconds", minimum=1, maximum=MAX_WINDOW_SECONDS)
        _integer(self.n, f"{self.path}.n", minimum=0, maximum=2**53)
        object.__setattr__(self, "kind", _kind(self.kind, f"{self.path}.kind"))
        if self.kind is WindowKind.PROPORTION:
            self._check_proportion()
        else:
            self._check_mean()

    def _check_proportion(self) -> None:
        if self.sketch is not None:
            _refuse(f"{self.path}.sketch", "a proportion window has no quantiles")
        if self.sum is not None or self.sum_squares is not None:
            _refuse(f"{self.path}.sum", "a proportion window has successes, not sum/sum_squares")
        if self.successes is None:
            _refuse(f"{self.path}.successes", "is required for a proportion window")
        _integer(self.successes, f"{self.path}.successes", minimum=0, maximum=self.n)

    def _check_mean(self) -> None:
        if self.successes is not None:
            _refuse(f"{self.path}.successes", "a mean window has sum and sum_squares")
        for field_name, bound in (("sum", MAX_VALUE), ("sum_squares", MAX_VALUE**2)):
            value = getattr(self, field_name)
            if value is None:
                _refuse(f"{self.path}.{field_name}", "is required for a mean window")
            _number(value, f"{self.path}.{field_name}", bound=bound * max(self.n, 1))
        total, squares = float(self.sum or 0.0), float(self.sum_squares or 0.0)
        if self.n == 0 and (total != 0 or squares != 0):
            _refuse(f"{self.path}.n", "is 0 but the sums are not")
        if squares < 0 or (self.n > 0 and squares * self.n < total * total * (1 - 1e-9)):
            _refuse(f"{self.path}.sum_squares", "is smaller than sum**2 / n: not real data")
        if self.sketch is not None and self.sketch.count != self.n:
            _refuse(
                f"{self.path}.sketch",
                f"holds {self.sketch.count} values but the window has n = {self.n}",
            )

    @property
    def totals(self) -> WindowTotals:
        """This window as added-up statistics."""
        if self.kind is WindowKind.PROPORTION:
            successes = float(self.successes or 0)
            return WindowTotals(kind=self.kind, n=self.n, sum=successes, sum_squares=successes)
        return WindowTotals(
            kind=self.kind,
            n=self.n,
            sum=float(self.sum or 0.0),
            sum_squares=float(self.sum_squares or 0.0),
            sketch=self.sketch,
        )


def _refuse(path: str, reason: str) -> NoReturn:
    raise ValidationError(f"{path} {reason}", details={"field": path})


def _name(value: object, path: str, *, length: int = _NAME_LENGTH) -> None:
    if not isinstance(value, str) or not value or len(value) > length:
        _refuse(path, f"must be text of 1 to {length} characters, got {value!r}")
    validate_text(value, path)


def _integer(value: object, path: str, *, minimum: int, maximum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        _refuse(path, f"must be an integer from {minimum} to {maximum}, got {value!r}")


def _number(value: object, path: str, *, bound: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        _refuse(path, f"must be a number, got {value!r}")
    if not math.isfinite(float(value)) or abs(float(value)) > bound:
        _refuse(path, f"must be a finite number of magnitude at most {bound:g}, got {value!r}")


def _kind(value: object, path: str) -> WindowKind:
    if not isinstance(value, str) or value not in set(WindowKind):
        _refuse(path, f"must be 'proportion' or 'mean', got {value!r}")
    return WindowKind(value)
