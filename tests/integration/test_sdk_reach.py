"""Heartbeats from real SDK processes, and ``GET /api/v1/flags/{key}/reach`` as proof a kill
landed."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import httpx
from live_servers import Keys, LiveServer

from rheostat.clock import SystemClock

PARAMS = {"environment": "production"}
WAIT_S = 30.0

CHILD = """
import sys
import rheostat
from rheostat.sdk import SyncOptions

streaming = sys.argv[3] == "stream"
options = SyncOptions(stream=streaming, poll_interval_s=3600.0)
client = rheostat.Client(url=sys.argv[1], api_key=sys.argv[2], options=options, init_timeout=10)
print(client.revision, flush=True)
sys.stdin.read()
client.close()
"""


@contextmanager
def _sdk_process(server: LiveServer, keys: Keys, mode: str) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(  # noqa: S603  # this interpreter, our own script
        [sys.executable, "-c", CHILD, server.url, keys.sdk_token, mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip().isdigit()  # it downloaded the flags
        yield process
    finally:
        process.communicate(input="", timeout=60)


def _reach(server: LiveServer, keys: Keys, key: str) -> dict[str, Any]:
    response = httpx.get(
        f"{server.url}/api/v1/flags/{key}/reach", params=PARAMS, headers=keys.admin, timeout=10
    )
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def _wait_until(condition: Callable[[], bool]) -> None:
    clock = SystemClock()
    deadline = clock.monotonic() + WAIT_S
    while not condition():
        assert clock.monotonic() < deadline, "never happened"
        clock.sleep(0.05)  # waiting for other processes' heartbeats, not asserting a time


def test_reach_shows_which_live_processes_applied_a_kill_and_which_did_not(
    live_server: LiveServer, live_database: tuple[str, Keys]
) -> None:
    # Given a flag on, one streaming SDK process and one that polls once an hour
    _, keys = live_database
    with httpx.Client(base_url=live_server.url, headers=keys.admin, timeout=10.0) as http:
        assert http.post("/api/v1/flags", params=PARAMS, json={"key": "reach"}).status_code == 201
    with ExitStack() as processes:
        streaming = processes.enter_context(_sdk_process(live_server, keys, "stream"))
        polling = processes.enter_context(_sdk_process(live_server, keys, "poll"))
        _wait_until(lambda: _reach(live_server, keys, "reach")["live"] == 2)
        before = _reach(live_server, keys, "reach")

        # When the flag is killed
        with httpx.Client(base_url=live_server.url, headers=keys.admin, timeout=10.0) as http:
            body = {"reason": "5xx"}
            assert (
                http.post("/api/v1/flags/reach/kill", params=PARAMS, json=body).status_code == 200
            )
        _wait_until(lambda: _reach(live_server, keys, "reach")["applied"] == 1)
        after = _reach(live_server, keys, "reach")

    # Then before, both ran the flag's latest change; after, only the streaming one, and the
    # polling one is named as pending
    assert (before["live"], before["applied"], before["pending"]) == (2, 2, [])
    assert after["revision"] == after["environment_revision"] > before["revision"]
    assert (after["live"], after["applied"]) == (2, 1)
    assert [process["pid"] for process in after["pending"]] == [polling.pid]
    assert after["pending"][0]["revision"] < after["revision"]
    assert after["oldest_acknowledgement_s"] >= 0
    assert streaming.pid != polling.pid


def test_a_heartbeat_needs_an_sdk_key_of_its_environment(
    live_server: LiveServer, live_database: tuple[str, Keys]
) -> None:
    # Given a heartbeat body
    _, keys = live_database
    body = {"instance_id": "abc", "revision": 1}
    with httpx.Client(base_url=live_server.url, timeout=10.0) as http:
        # When it is sent without a key, with the sdk key, and with a bad instance id
        anonymous = http.post("/api/v1/client/heartbeat", json=body)
        accepted = http.post("/api/v1/client/heartbeat", json=body, headers=keys.sdk)
        bad = {**body, "instance_id": "no spaces"}
        refused = http.post("/api/v1/client/heartbeat", json=bad, headers=keys.sdk)

    # Then 401, 200 naming the current revision, and 422
    assert anonymous.status_code == 401
    assert accepted.status_code == 200
    assert accepted.json()["environment"] == "production"
    assert refused.status_code == 422
