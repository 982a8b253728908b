"""Real ``rheostat serve`` processes on loopback ports, for tests of streaming and the SDK.

Imported by test modules and by ``conftest.py`` (whose ``live_database`` and ``live_server``
fixtures use it): ``start_server`` yields a running server and stops it; ``post_as_admin``
and ``roll_out_flag`` change flags through its API; ``read_metric_totals`` reads what SDKs
tracked from the database; ``read_events`` follows an SSE stream with the SDK's own parser.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx

from rheostat import service
from rheostat.clock import SystemClock
from rheostat.metrics import WindowKind, WindowTotals
from rheostat.sdk.events import EventStreamParser, ServerEvent

RHEOSTAT = Path(sys.executable).with_name("rheostat")
READY_WITHIN_S = 60.0
STREAM_TIMEOUT_S = 30.0
"""How long a test waits for an event before failing (a guard, not a measurement)."""
PRODUCTION = {"environment": "production"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Keys:
    admin: dict[str, str]
    sdk: dict[str, str]
    sdk_token: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveServer:
    url: str
    process: subprocess.Popen[str]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def rheostat(*args: str, database_url: str) -> str:
    result = subprocess.run(  # noqa: S603  # our own console script, fixed arguments
        [str(RHEOSTAT), *args, "--database-url", database_url],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout


def prepare_database(database_url: str, environment: str = "production") -> Keys:
    """Migrate, create ``environment``, an admin key and an sdk key of it."""
    rheostat("migrate-db", database_url=database_url)
    rheostat("env", "create", environment, database_url=database_url)
    admin = json.loads(
        rheostat("keys", "create", "ops", "--scope", "admin", "--json", database_url=database_url)
    )
    sdk = json.loads(
        rheostat(
            "keys",
            "create",
            "app",
            "--scope",
            "sdk",
            "--env",
            environment,
            "--json",
            database_url=database_url,
        )
    )
    return Keys(
        admin={"Authorization": f"Bearer {admin['token']}"},
        sdk={"Authorization": f"Bearer {sdk['token']}"},
        sdk_token=sdk["token"],
    )


@contextmanager
def start_server(
    database_url: str, port: int | None = None, **settings: str
) -> Iterator[LiveServer]:
    """Run ``rheostat serve`` on ``port`` (a free one by default) until the block ends
    (``RHEOSTAT_*`` settings)."""
    port = port or free_port()
    variables = {f"RHEOSTAT_{name.upper()}": value for name, value in settings.items()}
    process = subprocess.Popen(  # noqa: S603  # our own console script, fixed arguments
        [str(RHEOSTAT), "serve", "--port", str(port), "--database-url", database_url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **variables},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_ready(process, url)
        yield LiveServer(url=url, process=process)
    finally:
        process.terminate()
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def post_as_admin(server: LiveServer, keys: Keys, path: str, body: dict[str, object]) -> None:
    """POST ``body`` to ``path`` in ``production`` with the admin key; it must succeed."""
    with httpx.Client(base_url=server.url, headers=keys.admin, timeout=10.0) as http:
        response = http.post(path, params=PRODUCTION, json=body)
        assert response.status_code in (200, 201), response.text


def roll_out_flag(server: LiveServer, keys: Keys, key: str, *, percent: float) -> None:
    """Create the flag ``key`` in ``production`` and roll it out to ``percent``."""
    post_as_admin(server, keys, "/api/v1/flags", {"key": key})
    post_as_admin(server, keys, f"/api/v1/flags/{key}/rollout", {"percent": percent})


def read_metric_totals(
    database_url: str, flag: str, metric: str
) -> dict[tuple[str, WindowKind], WindowTotals]:
    """What is stored of ``flag``'s ``metric`` in ``production``, from an hour ago to an hour
    from now, per (variant, kind)."""
    store = service.open_store(database_url)
    try:
        with store.reading() as uow:
            now = SystemClock().now()
            return service.metric_totals(
                uow,
                "production",
                flag,
                metric,
                since=now - timedelta(hours=1),
                until=now + timedelta(hours=1),
            )
    finally:
        store.close()


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


class EventReader:
    """An open SSE response, read event by event (comments are counted, not returned)."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.iter_lines()
        self._parser = EventStreamParser()
        self.comments = 0

    def next_event(self) -> ServerEvent:
        clock = SystemClock()
        deadline = clock.monotonic() + STREAM_TIMEOUT_S
        for line in self._lines:
            if clock.monotonic() > deadline:  # keep-alives alone must not wait forever
                raise AssertionError(f"no event within {STREAM_TIMEOUT_S} s")
            parsed = self._parser.feed(line)
            if parsed is True:
                self.comments += 1
            elif isinstance(parsed, ServerEvent):
                return parsed
        raise AssertionError("the stream ended")

    def next_comment(self) -> None:
        seen = self.comments
        for line in self._lines:
            if self._parser.feed(line) is True and self.comments + 1 > seen:
                self.comments += 1
                return
        raise AssertionError("the stream ended")


@contextmanager
def open_stream(
    url: str, headers: Mapping[str, str], *, last_event_id: str | None = None
) -> Iterator[EventReader]:
    """Open ``GET /api/v1/client/stream`` and yield a reader of its events."""
    sent = dict(headers)
    if last_event_id is not None:
        sent["Last-Event-ID"] = last_event_id
    timeout = httpx.Timeout(10.0, read=STREAM_TIMEOUT_S)
    with (
        httpx.Client(base_url=url, timeout=timeout) as http,
        http.stream("GET", "/api/v1/client/stream", headers=sent) as response,
    ):
        assert response.status_code == 200, response.read()
        yield EventReader(response)


def data_of(event: ServerEvent) -> dict[str, object]:
    document: dict[str, object] = json.loads(event.data)
    return document
