"""Metric values: windows of sufficient statistics sent by SDKs and read by release gates.

Pure (values in, values out). Storing them is ``rheostat.service.record_metric_windows``.
"""

from rheostat.metrics.sketch import QuantileSketch
from rheostat.metrics.windows import (
    MAX_VALUE,
    MAX_WINDOW_SECONDS,
    MetricWindow,
    WindowKind,
    WindowTotals,
)

__all__ = [
    "MAX_VALUE",
    "MAX_WINDOW_SECONDS",
    "MetricWindow",
    "QuantileSketch",
    "WindowKind",
    "WindowTotals",
]
