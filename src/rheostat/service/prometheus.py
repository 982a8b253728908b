"""A Prometheus metric source for threshold gates: one PromQL instant query per look.

``GET {url}/api/v1/query?query=...&time=...`` over httpx, with a timeout per request and a few
retries (with backoff) for a server that did not answer or answered 5xx. A source that fails
makes the gate ``error``, never ``pass``: the error limit of the plan (default: 4 consecutive
errors fail the gate) decides what then. A query must return one number (a scalar, or a vector
of exactly one series: aggregate with ``sum``/``max``...); an empty vector or NaN is "no data",
which has its own policy.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from rheostat.clock import SystemClock
from rheostat.rollout import Measurement

__all__ = ["MetricSources", "query_prometheus"]

_RETRYABLE = (httpx.TransportError,)


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricSources:
    """Where the controller reads metrics other than the built-in windows.

    Attributes:
        prometheus_url: base URL of the Prometheus HTTP API (``RHEOSTAT_PROMETHEUS_URL``,
            ``controller run --prometheus-url``); ``None``: gates that need it answer ``error``.
        timeout: seconds per request.
        retries: further attempts after a failed one (transport error or 5xx).
        backoff: seconds before the first retry, doubled each time.
        sleep: how to wait between attempts (the clock's, injected for tests).
    """

    prometheus_url: str | None = None
    timeout: float = 5.0
    retries: int = 2
    backoff: float = 0.25
    sleep: Callable[[float], None] = field(default=SystemClock().sleep)


def query_prometheus(
    sources: MetricSources, metric: str, query: str, *, at: datetime
) -> Measurement:
    """Evaluate ``query`` at ``at``: its one number (``n`` = 1), no data, or why it failed."""
    if not sources.prometheus_url:
        return Measurement.failed(
            metric, "no Prometheus URL configured (RHEOSTAT_PROMETHEUS_URL)", at=at
        )
    url = sources.prometheus_url.rstrip("/") + "/api/v1/query"
    params = {"query": query, "time": f"{at.timestamp():.3f}"}
    error = "no attempt made"
    for attempt in range(sources.retries + 1):
        if attempt:
            sources.sleep(sources.backoff * 2 ** (attempt - 1))
        try:
            response = httpx.get(url, params=params, timeout=sources.timeout)
        except _RETRYABLE as failure:
            error = f"Prometheus did not answer: {type(failure).__name__}: {failure}"
            continue
        if response.status_code >= 500:  # the server's fault: try again
            error = f"Prometheus answered {response.status_code}: {_error_text(response)}"
            continue
        return _measurement(metric, response, at)
    return Measurement.failed(metric, f"{error} (after {sources.retries + 1} attempts)", at=at)


def _measurement(metric: str, response: httpx.Response, at: datetime) -> Measurement:
    try:
        body = response.json()
    except ValueError:
        return Measurement.failed(
            metric, f"Prometheus answered {response.status_code}, not JSON", at=at
        )
    if response.status_code != 200 or body.get("status") != "success":
        return Measurement.failed(
            metric, f"Prometheus refused the query: {_error_text(response)}", at=at
        )
    try:
        value = _one_number(body["data"])
    except (KeyError, TypeError, ValueError, IndexError) as failure:
        return Measurement.failed(metric, f"unexpected Prometheus answer: {failure}", at=at)
    if value is None or math.isnan(value):
        return Measurement(metric=metric, value=None, n=0, at=at)
    return Measurement(metric=metric, value=value, n=1, at=at)


def _one_number(data: dict[str, Any]) -> float | None:
    kind, result = data["resultType"], data["result"]
    if kind == "scalar":
        return float(result[1])
    if kind != "vector":
        raise ValueError(f"a {kind} result; the query must give one number")
    if not result:
        return None
    if len(result) > 1:
        raise ValueError(
            f"{len(result)} series; the query must give one number (aggregate it: sum, max...)"
        )
    return float(result[0]["value"][1])


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict) and "error" in body:
        return f"{body.get('errorType', 'error')}: {body['error']}"[:500]
    return response.text[:200]
