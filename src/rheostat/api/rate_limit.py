"""``RateLimit``: a token bucket per API key; over it, ``429`` with ``Retry-After``.

A key is known by a hash of its token (the token itself is never kept), taken from
``Authorization: Bearer`` or ``X-API-Key`` before any database work, so a flood costs no
query. Requests without a key are not limited here (they get 401 without touching the
database), nor are ``/health`` and ``/metrics``. An SSE stream is one request: it takes one
token when it connects, whatever it then receives. Buckets live in the replica's memory, so
with N replicas behind a balancer a key may make up to N times the rate.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import OrderedDict
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from rheostat.api.telemetry import Telemetry
from rheostat.clock import Clock, SystemClock

__all__ = ["MAX_TRACKED_KEYS", "Bucket", "RateLimit", "key_id", "take"]

MAX_TRACKED_KEYS = 10_000
"""Buckets kept at most; the least recently used goes first (a full bucket loses nothing)."""

_EXEMPT = frozenset({"/health", "/metrics"})


@dataclass(slots=True, kw_only=True)
class Bucket:
    """Tokens left at ``updated`` (a monotonic reading)."""

    tokens: float
    updated: float


def take(bucket: Bucket, now: float, *, rate: float, burst: int) -> float:
    """Take one token from ``bucket`` at ``now``; return 0, or the seconds until one is there
    (the bucket then keeps what it had)."""
    bucket.tokens = min(float(burst), bucket.tokens + max(0.0, now - bucket.updated) * rate)
    bucket.updated = now
    if bucket.tokens >= 1.0:
        bucket.tokens -= 1.0
        return 0.0
    return (1.0 - bucket.tokens) / rate


def key_id(scope: Scope) -> str | None:
    """A stable, non-reversible name of the request's API key (``None``: it sends none)."""
    token = None
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, rest = value.decode("latin-1").strip().partition(" ")
            if scheme.lower() == "bearer" and rest.strip():
                token = rest.strip()
                break
        elif name == b"x-api-key" and value.strip() and token is None:
            token = value.decode("latin-1").strip()
    if token is None:
        return None
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:32]


class RateLimit:
    """Pure ASGI middleware: ``rate`` requests per second per key, ``burst`` at once."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        rate: float,
        burst: int,
        telemetry: Telemetry | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._app = app
        self._rate = rate
        self._burst = max(1, burst)
        self._telemetry = telemetry
        self._clock = clock or SystemClock()
        self._buckets: OrderedDict[str, Bucket] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in _EXEMPT:
            await self._app(scope, receive, send)
            return
        identity = key_id(scope)
        if identity is None:
            await self._app(scope, receive, send)
            return
        wait = take(
            self._bucket(identity), self._clock.monotonic(), rate=self._rate, burst=self._burst
        )
        if wait > 0:
            if self._telemetry is not None:
                self._telemetry.rate_limited.inc()
            await self._refuse(send, wait)
            return
        await self._app(scope, receive, send)

    def _bucket(self, identity: str) -> Bucket:
        bucket = self._buckets.get(identity)
        if bucket is None:
            bucket = Bucket(tokens=float(self._burst), updated=self._clock.monotonic())
            self._buckets[identity] = bucket
            while len(self._buckets) > MAX_TRACKED_KEYS:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(identity)
        return bucket

    async def _refuse(self, send: Send, wait: float) -> None:
        retry_after = max(1, math.ceil(wait))
        body = json.dumps(
            {
                "error": {
                    "code": "rate_limited",
                    "message": f"too many requests with this API key: the limit is"
                    f" {self._rate:g} per second (bursts of {self._burst});"
                    f" retry after {retry_after} s",
                    "details": {
                        "retry_after_s": retry_after,
                        "limit_per_second": self._rate,
                        "burst": self._burst,
                    },
                }
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(retry_after).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
