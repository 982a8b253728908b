"""A Prometheus source for threshold gates, against a real HTTP server on loopback.

Issue 10: "a gate may read a PromQL query over HTTP (httpx) with timeouts and retries; a source
that errors makes the gate `error`, never `pass`." The server below speaks the Prometheus HTTP
API's instant-query answer format (``/api/v1/query``) and can be told to fail.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from rheostat import service
from rheostat.rollout import GateMode, Plan, RampStage, ThresholdGate, Verdict, assess_threshold
from rheostat.rollout.state import Command, CommandKind, Phase
from rheostat.service import Change, MetricSources, SqlStore, query_prometheus, transact

AT = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


class FakePrometheus:
    """Answers ``/api/v1/query`` from a queue of (status, body) replies; records the queries."""

    def __init__(self) -> None:
        self.replies: list[tuple[int, Any]] = []
        self.queries: list[dict[str, list[str]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.queries.append(parse_qs(urlparse(self.path).query))
                status, body = outer.replies.pop(0) if outer.replies else (200, _vector(0.0))
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


def _vector(*values: float) -> dict[str, Any]:
    result = [{"metric": {"job": f"j{i}"}, "value": [1.0, str(v)]} for i, v in enumerate(values)]
    return {"status": "success", "data": {"resultType": "vector", "result": result}}


@pytest.fixture
def prometheus() -> Iterator[FakePrometheus]:
    fake = FakePrometheus()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.server.shutdown()
        fake.server.server_close()


def _sources(url: str | None, slept: list[float] | None = None) -> MetricSources:
    waits = slept if slept is not None else []
    return MetricSources(prometheus_url=url, timeout=2.0, retries=2, sleep=waits.append)


GATE = ThresholdGate(name="errors", metric="error_rate", max=0.01, source="prometheus", query="q")


def test_a_value_under_and_over_the_limit_passes_and_fails(prometheus: FakePrometheus) -> None:
    prometheus.replies = [(200, _vector(0.002)), (200, _vector(0.05))]

    low = query_prometheus(_sources(prometheus.url), "error_rate", "sum(rate(e[5m]))", at=AT)
    high = query_prometheus(_sources(prometheus.url), "error_rate", "sum(rate(e[5m]))", at=AT)

    assert assess_threshold(GATE, low).verdict is Verdict.PASS
    assert assess_threshold(GATE, high).verdict is Verdict.FAIL
    assert prometheus.queries[0]["query"] == ["sum(rate(e[5m]))"]
    assert prometheus.queries[0]["time"] == [f"{AT.timestamp():.3f}"]


def test_a_server_error_is_retried_with_backoff_then_answers(prometheus: FakePrometheus) -> None:
    prometheus.replies = [(503, "overloaded"), (500, {"status": "error", "error": "boom"})]
    prometheus.replies.append((200, _vector(0.004)))
    slept: list[float] = []

    measured = query_prometheus(_sources(prometheus.url, slept), "error_rate", "q", at=AT)

    assert measured.value == pytest.approx(0.004)
    assert len(prometheus.queries) == 3
    assert slept == [0.25, 0.5]


def test_a_source_that_keeps_failing_is_an_error_never_a_pass(prometheus: FakePrometheus) -> None:
    prometheus.replies = [(503, "down")] * 3

    measured = query_prometheus(_sources(prometheus.url), "error_rate", "q", at=AT)
    verdict = assess_threshold(GATE, measured)

    assert verdict.verdict is Verdict.ERROR
    assert "503" in str(verdict.evidence["error"])
    assert "after 3 attempts" in str(verdict.evidence["error"])


def test_an_unreachable_server_is_an_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    measured = query_prometheus(_sources(f"http://127.0.0.1:{port}"), "error_rate", "q", at=AT)

    assert assess_threshold(GATE, measured).verdict is Verdict.ERROR
    assert "did not answer" in (measured.error or "")


@pytest.mark.parametrize(
    ("reply", "verdict", "says"),
    [
        (
            (400, {"status": "error", "errorType": "bad_data", "error": "parse error"}),
            Verdict.ERROR,
            "bad_data",
        ),
        ((200, _vector(0.1, 0.2)), Verdict.ERROR, "2 series"),
        ((200, _vector()), Verdict.NO_DATA, None),
        ((200, _vector(float("nan"))), Verdict.NO_DATA, None),
        (
            (200, {"status": "success", "data": {"resultType": "scalar", "result": [1, "0.5"]}}),
            Verdict.FAIL,
            None,
        ),
        ((200, "<html>proxy</html>"), Verdict.ERROR, "not JSON"),
    ],
)
def test_answers_that_are_not_one_number_are_told_apart(
    prometheus: FakePrometheus, reply: tuple[int, Any], verdict: Verdict, says: str | None
) -> None:
    prometheus.replies = [reply]

    measured = query_prometheus(_sources(prometheus.url), "error_rate", "q", at=AT)

    assert assess_threshold(GATE, measured).verdict is verdict
    if says is not None:
        assert says in (measured.error or "")
    assert len(prometheus.queries) == 1  # a refused query is not retried


def test_no_configured_url_is_an_error_that_says_how_to_set_it() -> None:
    measured = query_prometheus(_sources(None), "error_rate", "q", at=AT)
    assert "RHEOSTAT_PROMETHEUS_URL" in (measured.error or "")


def test_a_hard_prometheus_gate_kills_the_flag_at_once(
    store: SqlStore, prometheus: FakePrometheus
) -> None:
    # Given a plan baking at 5 % with a circuit breaker read from Prometheus
    breaker = ThresholdGate(
        name="breaker", metric="error_rate", max=0.05, source="prometheus",
        query="sum(rate(errors[1m]))", hard=True, mode=GateMode.ROLLBACK,
    )  # fmt: skip
    plan = Plan(
        name="search", flag="hybrid_search", environment="production",
        stages=(RampStage(percent=5, bake=timedelta(hours=4)), RampStage(percent=100)),
        gates=(breaker,),
    )  # fmt: skip
    transact(store, service.create_environment, "production", change=Change(actor="setup"))
    transact(
        store, service.create_flag, "production", "hybrid_search", {}, change=Change(actor="t")
    )
    transact(store, service.create_plan, plan, change=Change(actor="alice"))
    start = Command(kind=CommandKind.START, actor="alice")
    transact(store, service.command_plan, "production", "search", start)
    sources = _sources(prometheus.url)
    prometheus.replies = [(200, _vector(0.01))]
    transact(store, service.tick_plan, "production", "search", sources=sources)

    # When Prometheus reports a 30 % error rate in the middle of the bake
    prometheus.replies = [(200, _vector(0.3))]
    report = transact(store, service.tick_plan, "production", "search", sources=sources)

    # Then the plan rolls back at once, with the Prometheus value as evidence
    assert report.plan.state.phase in (Phase.ROLLED_BACK, Phase.ROLLING_BACK)
    assert report.plan.state.exposure.percent == 0
    events = transact(store, service.plan_events, "production", "search")
    failing = [e for e in events if e.type in ("plan.rolling_back", "plan.rolled_back")]
    assert failing
    assert "0.3" in json.dumps(failing[0].evidence)
