"""``http`` and ``prometheus_up``: HTTP probes with httpx, bounded by the check's timeout."""

from __future__ import annotations

from typing import Any

import httpx

from rheostat.checks import CheckSpec, Finding

__all__ = ["probe_http", "probe_prometheus"]

_BODY_SHOWN = 200


def probe_http(check: CheckSpec) -> Finding:
    """Pass when the URL answers one of ``status`` (and within ``max_latency_ms``)."""
    params = check.params
    url, expected = params["url"], list(params["status"])
    try:
        response = httpx.request(
            params["method"],
            url,
            headers=params.get("headers"),
            timeout=check.timeout_seconds,
            follow_redirects=False,
        )
    except httpx.HTTPError as error:
        return Finding.failed(f"{url} did not answer: {type(error).__name__}: {error}", url=url)
    latency_ms = response.elapsed.total_seconds() * 1000
    evidence: dict[str, Any] = {
        "url": url,
        "status": response.status_code,
        "latency_ms": round(latency_ms, 3),
    }
    if response.status_code not in expected:
        evidence["body"] = response.text[:_BODY_SHOWN]
        return Finding.failed(
            f"{url} answered {response.status_code}, expected {_either(expected)}", **evidence
        )
    limit = params.get("max_latency_ms")
    if limit is not None and latency_ms > limit:
        evidence["max_latency_ms"] = limit
        return Finding.failed(
            f"{url} answered in {latency_ms:.0f} ms, over the {limit:g} ms limit", **evidence
        )
    return Finding.passed(
        f"{url} answered {response.status_code} in {latency_ms:.0f} ms", **evidence
    )


def probe_prometheus(check: CheckSpec) -> Finding:
    """Pass when Prometheus is ready; with ``job``, when every target of it is up."""
    base = str(check.params["url"]).rstrip("/")
    job = check.params.get("job")
    try:
        if job is None:
            response = httpx.get(f"{base}/-/ready", timeout=check.timeout_seconds)
            if response.status_code != httpx.codes.OK:
                return Finding.failed(
                    f"Prometheus at {base} is not ready ({response.status_code})", url=base
                )
            return Finding.passed(f"Prometheus at {base} is ready", url=base)
        query = f'up{{job="{job}"}}'
        response = httpx.get(
            f"{base}/api/v1/query", params={"query": query}, timeout=check.timeout_seconds
        )
        response.raise_for_status()
        series = response.json()["data"]["result"]
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as error:
        return Finding.failed(
            f"Prometheus at {base} did not answer: {type(error).__name__}: {error}", url=base
        )
    return _targets(base, str(job), series)


def _targets(base: str, job: str, series: list[Any]) -> Finding:
    if not series:
        return Finding.failed(f"Prometheus scrapes no target of job {job!r}", url=base, job=job)
    down = [
        str(item.get("metric", {}).get("instance", "?"))
        for item in series
        if str(item.get("value", [None, "0"])[1]) != "1"
    ]
    evidence = {"url": base, "job": job, "targets": len(series), "down": down}
    if down:
        return Finding.failed(f"job {job!r}: {len(down)} of {len(series)} targets down", **evidence)
    return Finding.passed(f"job {job!r}: all {len(series)} targets up", **evidence)


def _either(statuses: list[int]) -> str:
    return " or ".join(str(status) for status in statuses)
