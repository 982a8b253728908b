"""Metric window schemas: ``POST /api/v1/client/metrics``."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from rheostat.api.schemas.common import RequestModel
from rheostat.metrics import MetricWindow, WindowKind
from rheostat.service import MetricReceipt

__all__ = ["MetricBatch", "MetricReceiptPublic", "MetricWindowIn"]

_MAX_WINDOWS = 10_000


class MetricWindowIn(RequestModel):
    """Sufficient statistics of one metric for one flag variant over ``seconds`` from ``start``.

    ``kind: proportion`` sends ``n`` and ``successes``; ``kind: mean`` sends ``n``, ``sum`` and
    ``sum_squares``. An optional ``id`` makes a retry harmless (counted once).
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

    def to_domain(self, index: int) -> MetricWindow:
        """The core value; its checks name ``windows[index].<field>``."""
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
            path=f"windows[{index}]",
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
