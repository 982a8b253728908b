"""``rheostat serve`` in a real process, talked to over HTTP on a loopback port."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from rheostat.clock import SystemClock

RHEOSTAT = Path(sys.executable).with_name("rheostat")
READY_WITHIN_S = 60.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Server:
    url: str
    admin: dict[str, str]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _rheostat(*args: str, database_url: str) -> str:
    result = subprocess.run(  # noqa: S603  # our own console script, fixed arguments
        [str(RHEOSTAT), *args, "--database-url", database_url],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout


def _wait_until_ready(process: subprocess.Popen[str], url: str) -> None:
    clock = SystemClock()
    deadline = clock.monotonic() + READY_WITHIN_S
    while clock.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"rheostat serve exited early: {process.communicate()[1]}")
        try:
            if httpx.get(f"{url}/health", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            clock.sleep(0.1)  # not started yet; this is a readiness wait, not an assertion
    raise AssertionError(f"rheostat serve did not answer within {READY_WITHIN_S} s")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A `rheostat serve` process (default host) on a fresh SQLite file, and an admin key."""
    database_url = f"sqlite:///{tmp_path_factory.mktemp('serve') / 'rheostat.db'}"
    _rheostat("migrate-db", database_url=database_url)
    _rheostat("env", "create", "production", database_url=database_url)
    created = json.loads(
        _rheostat("keys", "create", "ops", "--scope", "admin", "--json", database_url=database_url)
    )
    port = _free_port()
    process = subprocess.Popen(  # noqa: S603  # our own console script, fixed arguments
        [str(RHEOSTAT), "serve", "--port", str(port), "--database-url", database_url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_ready(process, url)
        yield Server(url=url, admin={"Authorization": f"Bearer {created['token']}"})
    finally:
        process.terminate()
        process.communicate(timeout=30)


def test_the_served_api_ramps_kills_and_reports_health(server: Server) -> None:
    # Given a flag created over HTTP on the real server
    with httpx.Client(base_url=server.url, headers=server.admin, timeout=10.0) as http:
        params = {"environment": "production"}
        created = http.post("/api/v1/flags", params=params, json={"key": "new-checkout"})

        # When it is ramped to 12.5 % and killed
        ramped = http.post(
            "/api/v1/flags/new-checkout/rollout", params=params, json={"percent": 12.5}
        )
        killed = http.post("/api/v1/flags/new-checkout/kill", params=params, json={"reason": "5xx"})
        health = httpx.get(f"{server.url}/health", timeout=10.0)
        status = http.get("/api/v1/config/flags").json()["flags"]

    # Then every answer is right, and /health (no key) shows the kill switch
    assert created.status_code == 201
    assert ramped.json()["version"] == 2
    assert killed.json()["enabled"] is False
    assert health.json()["kill_switches"]["production"]["new-checkout"] is True
    assert {row["key"]: row["state"] for row in status}["new-checkout"] == "disabled"


def test_two_concurrent_updates_of_one_version_let_exactly_one_win(server: Server) -> None:
    # Given a flag at version 1 that two clients read
    params = {"environment": "production"}
    with httpx.Client(base_url=server.url, headers=server.admin, timeout=10.0) as http:
        http.post("/api/v1/flags", params=params, json={"key": "race-flag"})

    def update(description: str) -> int:
        body = {"definition": {"description": description}, "expected_version": 1}
        with httpx.Client(base_url=server.url, headers=server.admin, timeout=30.0) as http:
            return http.put("/api/v1/flags/race-flag", params=params, json=body).status_code

    # When both send their update at the same time
    with ThreadPoolExecutor(max_workers=2) as pool:
        statuses = sorted(pool.map(update, ["from alice", "from bob"]))

    # Then one is applied and the other refused: no update is silently lost
    assert statuses == [200, 409]
    with httpx.Client(base_url=server.url, headers=server.admin, timeout=10.0) as http:
        history = http.get("/api/v1/flags/race-flag/history", params=params).json()["items"]
    assert [item["version"] for item in history] == [2, 1]
