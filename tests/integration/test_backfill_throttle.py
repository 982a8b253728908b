"""The throttle between batches, on a real SQLite database with a clock that jumps when the
runner waits: the rows/s limit, a callable probe, an HTTP probe on a real server, a SQL probe."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import backfill_data
import pytest
from backfill_data import create_source, create_target, job_text

from rheostat.backfill import job_from_text
from rheostat.clock import FixedClock
from rheostat.runner import BackfillRunner, BatchReport

ROWS = 1000


@pytest.fixture
def data(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'data.db'}"
    create_source(url, ROWS)
    create_target(url)
    return url


def _run(url: str, throttle: str, clock: FixedClock) -> list[BatchReport]:
    text = job_text(url, url, size=100) + f"throttle: {throttle}\n"
    reports: list[BatchReport] = []
    with BackfillRunner(job_from_text(text, {}), clock=clock) as runner:
        result = runner.run(on_batch=reports.append)
    assert result.rows_done == ROWS
    return reports


def test_the_rows_per_second_limit_spreads_the_copy_over_the_time_it_asks(data: str) -> None:
    clock = FixedClock()

    reports = _run(data, "{max_rows_per_second: 200}", clock)

    # 1,000 rows at 200 rows/s: the batches after the first wait until the average is 200/s
    assert clock.monotonic() >= (ROWS - 100) / 200
    assert any("rate above 200" in reason for r in reports for reason in r.throttled)


def test_a_callable_probe_over_its_limit_pauses_until_it_reads_under(data: str) -> None:
    clock = FixedClock()
    backfill_data.LOAD_READINGS[:] = [5.0, 9.0, 9.0, 1.0]

    reports = _run(
        data, "{pause_seconds: 2, probes: [{callable: 'backfill_data:load_probe', max: 3}]}", clock
    )

    assert reports[0].throttled == ("probe callable[0] read 9, above 3",)
    assert clock.monotonic() == pytest.approx(3 * 0.2, abs=1e-9)  # three waits, 0.2 s slices
    assert backfill_data.LOAD_READINGS == []


@pytest.fixture
def flaky_server() -> Iterator[tuple[str, list[int]]]:
    """An HTTP server on 127.0.0.1 answering the statuses listed, then 200."""
    statuses = [503, 503]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(statuses.pop(0) if statuses else 200)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/health", statuses
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_an_http_probe_that_fails_pauses_the_copy(
    data: str, flaky_server: tuple[str, list[int]]
) -> None:
    url, statuses = flaky_server
    clock = FixedClock()

    reports = _run(data, f"{{probes: [{{http: '{url}', max: 60}}]}}", clock)

    assert reports[0].throttled == ("probe http[0] failed",)
    assert statuses == []


def test_a_sql_probe_over_its_limit_holds_the_copy_until_it_is_stopped(data: str) -> None:
    probe = "{pause_seconds: 1, probes: [{sql: 'SELECT count(*) FROM documents', max: 10}]}"
    text = job_text(data, data, size=100) + f"throttle: {probe}\n"
    clock = FixedClock()
    checks = iter(range(100))

    with BackfillRunner(job_from_text(text, {}), clock=clock) as runner:
        held = runner.run(should_stop=lambda: next(checks) >= 20)

    # 1,000 source rows read against a limit of 10: not one batch ran, and the waits were
    # cut in slices so the stop request was seen
    assert held.status == "stopped"
    assert held.rows_done == 0
    assert clock.monotonic() > 0
