"""``rheostat serve`` in a real process, talked to over HTTP on a loopback port."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest
from live_servers import Keys, LiveServer


@dataclass(frozen=True, slots=True, kw_only=True)
class Server:
    url: str
    admin: dict[str, str]


@pytest.fixture(scope="module")
def server(live_server: LiveServer, live_database: tuple[str, Keys]) -> Server:
    """A `rheostat serve` process (default host) on a fresh SQLite file, and an admin key."""
    return Server(url=live_server.url, admin=live_database[1].admin)


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
