"""``/metrics``, rate limits and logs on real ``rheostat serve`` processes on loopback."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import httpx
import pytest
from live_servers import (
    RHEOSTAT,
    STREAM_TIMEOUT_S,
    free_port,
    open_stream,
    prepare_database,
    start_server,
)
from sqlalchemy import make_url

from rheostat.clock import SystemClock

PARAMS = {"environment": "production"}


def stream_clients(url: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=10.0).text
    found = re.search(r"^rheostat_stream_clients (\S+)$", text, re.MULTILINE)
    assert found is not None, text
    return float(found.group(1))


def wait_for_stream_clients(url: str, wanted: float) -> float:
    """Scrape until the gauge shows ``wanted`` (a disconnect is noticed asynchronously);
    return the last value read. A guard against hanging, not a measurement."""
    clock = SystemClock()
    deadline = clock.monotonic() + STREAM_TIMEOUT_S
    seen = stream_clients(url)
    while seen != wanted and clock.monotonic() < deadline:
        clock.sleep(0.05)
        seen = stream_clients(url)
    return seen


def test_the_stream_clients_gauge_follows_a_real_sse_connection(sqlite_url: str) -> None:
    # Given a server with no SSE client
    keys = prepare_database(sqlite_url)
    with start_server(sqlite_url) as server:
        before = stream_clients(server.url)

        # When an SDK follows the stream and has its document
        with open_stream(server.url, keys.sdk) as stream:
            stream.next_event()
            during = stream_clients(server.url)

        # And then disconnects
        after = wait_for_stream_clients(server.url, 0)

    # Then the gauge counted it while it was connected, and only then
    assert (before, during, after) == (0, 1, 0)


def test_an_sse_stream_takes_one_token_whatever_it_receives(sqlite_url: str) -> None:
    # Given bursts of 2 per key, refilled so slowly that the test never sees a refill
    keys = prepare_database(sqlite_url)
    limits = {"rate_limit_per_second": "0.001", "rate_limit_burst": "2"}
    with start_server(sqlite_url, **limits) as server:
        admin = httpx.Client(base_url=server.url, headers=keys.admin, timeout=10.0)
        sdk = httpx.Client(base_url=server.url, headers=keys.sdk, timeout=10.0)
        with admin, sdk, open_stream(server.url, keys.sdk) as stream:
            # When the SDK's stream gets its document and two changes
            stream.next_event()
            created = admin.post("/api/v1/flags", params=PARAMS, json={"key": "checkout"})
            stream.next_event()
            killed = admin.post("/api/v1/flags/checkout/kill", params=PARAMS)
            stream.next_event()
            # And the same key then reads its document twice
            first = sdk.get("/api/v1/client/flags")
            second = sdk.get("/api/v1/client/flags")

    # Then the stream took one token of two: one more request passed, the next did not
    assert (created.status_code, killed.status_code) == (201, 200)
    assert first.status_code == 200, first.text
    assert second.status_code == 429
    assert int(second.headers["Retry-After"]) >= 1


@pytest.mark.postgres
def test_a_server_never_logs_api_keys_or_the_database_password(
    postgres_url: str, tmp_path: Path
) -> None:
    # Given a PostgreSQL URL with a password (the local server trusts loopback, so any works)
    password = "pw-Lq0r7s"  # noqa: S105  # a test value, the thing that must not leak
    url = make_url(postgres_url).set(password=password).render_as_string(hide_password=False)
    assert password in url
    keys = prepare_database(url)
    log = tmp_path / "server.log"
    port = free_port()

    # When a server runs on it and answers requests with keys in both headers, good and bad
    with log.open("w") as output:
        process = subprocess.Popen(  # noqa: S603  # our own console script, fixed arguments
            [str(RHEOSTAT), "serve", "--port", str(port), "--database-url", url],
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_until_healthy(process, base)
            with httpx.Client(base_url=base, timeout=10.0) as http:
                http.get("/api/v1/environments", headers=keys.admin)
                http.get("/api/v1/client/flags", headers={"X-API-Key": keys.sdk_token})
                http.get("/api/v1/environments", headers={"Authorization": "Bearer rh_admin_bad"})
                http.get("/api/v1/flags/none", params=PARAMS, headers=keys.admin)
                http.get("/health")
                http.get("/metrics")
        finally:
            process.terminate()
            process.wait(timeout=30)
    text = log.read_text()

    # Then the log shows the requests, but neither the keys nor the password
    assert "GET /api/v1/environments" in text
    admin_token = keys.admin["Authorization"].removeprefix("Bearer ")
    for secret in (password, admin_token, keys.sdk_token, "rh_admin_bad"):
        assert secret not in text


def _wait_until_healthy(process: subprocess.Popen[bytes], url: str) -> None:
    clock = SystemClock()
    deadline = clock.monotonic() + 60
    while clock.monotonic() < deadline:
        assert process.poll() is None, "rheostat serve exited early"
        try:
            if httpx.get(f"{url}/health", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            clock.sleep(0.1)  # a readiness wait, not an assertion
    raise AssertionError("rheostat serve did not answer within 60 s")
