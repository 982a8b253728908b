"""``Telemetry``: one application's Prometheus registry, and the middleware that counts requests.

Each app owns its ``CollectorRegistry`` (never the process-wide default), so several apps in one
process (tests, two replicas in a benchmark) keep separate counts. Request counters move in
memory; the stored state (plans, backfills, alerts, SDK revisions) and the stream's client
count are read when Prometheus scrapes, by custom collectors.

Requests are labelled by route template (``/api/v1/flags/{key}``), never by raw path, so the
number of series stays bounded whatever clients send; a request no route matched (an unknown
path, a body refused by its declared size, a rate-limited call) is ``route="unmatched"``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rheostat.clock import Clock, SystemClock
from rheostat.service import Monitoring

__all__ = [
    "LATENCY_BUCKETS",
    "RequestMetrics",
    "Telemetry",
    "count_evaluations",
    "count_flag_document",
    "route_label",
]

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""Seconds to the response's headers: a flag read takes milliseconds, a check run seconds."""

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"


class Telemetry:
    """The counters a running app moves, and the collectors that read state at scrape time."""

    def __init__(self, *, stream_clients: Callable[[], int]) -> None:
        """``stream_clients`` returns the SSE clients now served (read on the event loop)."""
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "rheostat_http_requests",
            "HTTP requests answered, by route template, method and status class",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "rheostat_http_request_duration_seconds",
            "Seconds from a request's arrival to its response headers, by route template",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.flag_documents = Counter(
            "rheostat_flag_documents_served",
            "Flag documents served to SDKs (GET /api/v1/client/flags), by environment and"
            " status (200 full document, 304 unchanged)",
            ["environment", "status"],
            registry=self.registry,
        )
        self.evaluations = Counter(
            "rheostat_evaluations_served",
            "Flags evaluated by the server for a caller, by environment and endpoint",
            ["environment", "endpoint"],
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "rheostat_rate_limited_requests",
            "Requests refused with 429 because their API key was over its rate limit",
            registry=self.registry,
        )
        self._state = _StateCollector(stream_clients)
        self.registry.register(self._state)

    def observe(self, *, route: str, method: str, status: int, seconds: float) -> None:
        """Count one answered request."""
        verb = method if method in _METHODS else "other"
        self.requests.labels(route, verb, f"{status // 100}xx").inc()
        self.latency.labels(route, verb).observe(seconds)

    def render(self, monitoring: Monitoring | None) -> bytes:
        """The text exposition of every metric; ``monitoring`` is the stored state just read
        (``None``: the database did not answer, and ``rheostat_database_up`` says so).

        Call on the event loop: the stream's client count is read there.
        """
        self._state.monitoring = monitoring
        return generate_latest(self.registry)


class _StateCollector(Collector):
    """Gauges of the stored state and of the stream, built at each scrape."""

    def __init__(self, stream_clients: Callable[[], int]) -> None:
        self._stream_clients = stream_clients
        self.monitoring: Monitoring | None = None

    def describe(self) -> list[Any]:
        return []  # no fixed set: collect() builds the families each scrape

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily(
            "rheostat_stream_clients",
            "SSE clients this replica streams flag changes to",
            value=self._stream_clients(),
        )
        monitoring = self.monitoring
        yield GaugeMetricFamily(
            "rheostat_database_up",
            "1 when the last scrape read the stored state, 0 when the database did not answer",
            value=0 if monitoring is None else 1,
        )
        if monitoring is None:
            return
        yield _by_label(
            "rheostat_release_plans", "Release plans by state", "state", monitoring.plans
        )
        yield _by_label(
            "rheostat_backfill_jobs", "Backfill jobs by state", "state", monitoring.backfills
        )
        yield _by_label(
            "rheostat_alerts_firing",
            "Alerts firing, by severity",
            "severity",
            monitoring.firing_alerts,
        )
        yield from _delivery(monitoring)


def _by_label(name: str, documentation: str, label: str, counts: Mapping[str, int]) -> Any:
    family = GaugeMetricFamily(name, documentation, labels=[label])
    for value, count in sorted(counts.items()):
        family.add_metric([value], count)
    return family


def _delivery(monitoring: Monitoring) -> Iterator[GaugeMetricFamily]:
    revision = GaugeMetricFamily(
        "rheostat_environment_revision",
        "The environment's flag revision (grows with each change of its flags or segments)",
        labels=["environment"],
    )
    live = GaugeMetricFamily(
        "rheostat_sdk_processes_live",
        "SDK processes that sent a heartbeat within the last 90 s",
        labels=["environment"],
    )
    behind = GaugeMetricFamily(
        "rheostat_sdk_processes_behind",
        "Live SDK processes that report a revision older than the environment's",
        labels=["environment"],
    )
    lag = GaugeMetricFamily(
        "rheostat_sdk_revision_lag",
        "Revisions between the environment's latest and the oldest one a live SDK process"
        " reports (0 when every live process is current, or none is live)",
        labels=["environment"],
    )
    for environment in monitoring.delivery:
        labels = [environment.environment]
        oldest = environment.oldest_live_revision
        revision.add_metric(labels, environment.revision)
        live.add_metric(labels, environment.live)
        behind.add_metric(labels, environment.behind)
        lag.add_metric(labels, 0 if oldest is None else max(0, environment.revision - oldest))
    yield from (revision, live, behind, lag)


def route_label(scope: Scope) -> str:
    """The template of the route that served ``scope`` (``unmatched`` when none did)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


class RequestMetrics:
    """Pure ASGI middleware: count each HTTP request and time it to its response headers.

    Latency stops at the headers, so an SSE stream counts its connection, not its lifetime.
    """

    def __init__(self, app: ASGIApp, *, telemetry: Telemetry, clock: Clock | None = None) -> None:
        self._app = app
        self._telemetry = telemetry
        self._clock = clock or SystemClock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = self._clock.monotonic()
        answered = False

        async def timed_send(message: Message) -> None:
            nonlocal answered
            if message["type"] == "http.response.start" and not answered:
                answered = True
                self._record(scope, message["status"], started)
            await send(message)

        try:
            await self._app(scope, receive, timed_send)
        except Exception:
            if not answered:
                self._record(scope, 500, started)
            raise

    def _record(self, scope: Scope, status: int, started: float) -> None:
        self._telemetry.observe(
            route=route_label(scope),
            method=str(scope.get("method", "")),
            status=status,
            seconds=max(0.0, self._clock.monotonic() - started),
        )


def _telemetry(request: Request) -> Telemetry | None:
    telemetry = getattr(request.app.state, "telemetry", None)
    return telemetry if isinstance(telemetry, Telemetry) else None


def count_flag_document(request: Request, environment: str, *, not_modified: bool) -> None:
    """Count a flag document served to an SDK (``not_modified``: a 304 to its ETag)."""
    telemetry = _telemetry(request)
    if telemetry is not None:
        telemetry.flag_documents.labels(environment, "304" if not_modified else "200").inc()


def count_evaluations(request: Request, environment: str, endpoint: str, count: int = 1) -> None:
    """Count ``count`` flags the server evaluated for a caller at ``endpoint`` (a route
    template such as ``/ofrep/v1/evaluate/flags``)."""
    telemetry = _telemetry(request)
    if telemetry is not None and count > 0:
        telemetry.evaluations.labels(environment, endpoint).inc(count)
