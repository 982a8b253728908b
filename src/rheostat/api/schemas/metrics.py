"""Metric window schemas: ``POST /api/v1/client/metrics``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from rheostat.api.schemas.common import RequestModel
from rheostat.metrics import MetricWindow, QuantileSketch, WindowKind
from rheostat.metrics.sketch import MAX_BINS, MAX_INDEX, MIN_INDEX, RELATIVE_ACCURACY
from rheostat.service import MetricReceipt

__all__ = ["MetricBatch", "MetricReceiptPublic", "MetricWindowIn", "SketchIn"]

_MAX_WINDOWS = 10_000
_Bin = tuple[
    Annotated[int, Field(ge=MIN_INDEX, le=MAX_INDEX, strict=True)],
    Annotated[int, Field(ge=1, strict=True)],
]


class SketchIn(RequestModel):
    """A quantile sketch of a mean window's values (DDSketch, 1 % relative accuracy): counts
    per logarithmic bin, ``[bin, count]`` pairs; value ``x > 0`` falls in bin
    ``ceil(log(x) / log(1.01 / 0.99))``. The counts add up to the window's ``n``."""

    accuracy: float = Field(
        default=RELATIVE_ACCURACY,
        ge=RELATIVE_ACCURACY,
        le=RELATIVE_ACCURACY,
        description="the relative accuracy every process shares: 0.01",
    )
    zeros: int = Field(default=0, ge=0, strict=True, description="values within 1e-9 of zero")
    positive: list[_Bin] = Field(default_factory=list, max_length=MAX_BINS)
    negative: list[_Bin] = Field(
        default_factory=list, max_length=MAX_BINS, description="negative values, by magnitude"
    )

    def to_domain(self, path: str) -> QuantileSketch:
        """The core value (bins checked again: each bin once)."""
        return QuantileSketch.from_document(
            {
                "accuracy": self.accuracy,
                "zeros": self.zeros,
                "positive": [list(pair) for pair in self.positive],
                "negative": [list(pair) for pair in self.negative],
            },
            path=path,
        )


class MetricWindowIn(RequestModel):
    """Sufficient statistics of one metric for one flag variant over ``seconds`` from ``start``.

    ``kind: proportion`` sends ``n`` and ``successes``; ``kind: mean`` sends ``n``, ``sum`` and
    ``sum_squares``, and optionally a ``sketch`` of the values (for quantile gates). An optional
    ``id`` makes a retry harmless (counted once).
    """

    flag: str = Field(min_length=1, max_length=128, examples=["hybrid_search"])
    variant: str = Field(min_length=1, max_length=128, examples=["on"])
    metric: str = Field(min_length=1, max_length=128, examples=["http_errors"])
    start: datetime = Field(description="RFC 3339 with an offset, e.g. 2026-12-07T09:00:00Z")
    seconds: int = Field(ge=1, le=86_400, strict=True, examples=[60])
    kind: Literal["proportion", "mean"]
    n: int = Field(ge=0, strict=True, examples=[1000])
    successes: int | None = Field(default=None, ge=0, strict=True, examples=[12])
    sum: float | None = Field(default=None, strict=True)
    sum_squares: float | None = Field(default=None, strict=True)
    id: str | None = Field(default=None, min_length=1, max_length=128)
    sketch: SketchIn | None = None

    def to_domain(self, index: int) -> MetricWindow:
        """The core value; its checks name ``windows[index].<field>``."""
        path = f"windows[{index}]"
        return MetricWindow(
            flag=self.flag,
            variant=self.variant,
            metric=self.metric,
            start=self.start,
            seconds=self.seconds,
            kind=WindowKind(self.kind),
            n=self.n,
            successes=self.successes,
            sum=self.sum,
            sum_squares=self.sum_squares,
            id=self.id,
            sketch=None if self.sketch is None else self.sketch.to_domain(f"{path}.sketch"),
            path=path,
        )


class MetricBatch(RequestModel):
    """A batch of windows for one environment (an sdk key's own by default)."""

    environment: str | None = Field(default=None, max_length=63, examples=["production"])
    windows: list[MetricWindowIn] = Field(max_length=_MAX_WINDOWS)


class MetricReceiptPublic(BaseModel):
    """What a batch did."""

    recorded: int = Field(description="windows counted now")
    duplicates: int = Field(description="windows whose id was counted before: retries")

    @classmethod
    def from_domain(cls, receipt: MetricReceipt) -> MetricReceiptPublic:
        """Convert the service's value."""
        return cls(recorded=receipt.recorded, duplicates=receipt.duplicates)
