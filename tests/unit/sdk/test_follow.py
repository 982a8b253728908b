"""The client's sync thread against ``httpx.MockTransport`` servers: gaps, fallback, status."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

import httpx

import rheostat
from rheostat.clock import SystemClock
from rheostat.sdk import ClientStatus, FlagsChanged, SyncOptions

WAIT_S = 30.0


def _document(enabled: bool) -> dict[str, object]:
    flag = {
        "enabled": enabled,
        "variants": {"on": True, "off": False},
        "default": "off",
        "rules": [{"serve": "on"}],
    }
    return {"version": 1, "segments": {}, "flags": {"checkout": flag}}


def _flags_response(revision: int, enabled: bool) -> httpx.Response:
    return httpx.Response(
        200,
        json=_document(enabled),
        headers={"ETag": f'"{revision}"', "X-Rheostat-Revision": str(revision)},
    )


def _client(
    handler: Callable[[httpx.Request], httpx.Response], **options: object
) -> rheostat.Client:
    sync = SyncOptions(transport=httpx.MockTransport(handler), backoff_initial_s=0.01, **options)  # type: ignore[arg-type]
    return rheostat.Client(url="http://flags.test", api_key="rh_sdk_x", options=sync)


def test_a_patch_not_based_on_the_revision_held_makes_the_client_refetch() -> None:
    # Given a server at revision 1 whose stream then sends a patch based on revision 5
    downloads: list[int] = []
    refetched = threading.Event()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/client/flags":
            downloads.append(1)
            if len(downloads) > 1:
                refetched.set()
            return _flags_response(6 if len(downloads) > 1 else 1, enabled=len(downloads) == 1)
        if refetched.is_set():
            return httpx.Response(
                200, content=b": ping\n\n", headers={"content-type": "text/event-stream"}
            )
        patch = {"revision": 6, "base": 5, "flags": {"checkout": None}, "segments": {}}
        body = f"id: 6\nevent: patch\ndata: {json.dumps(patch)}\n\n".encode()
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})

    # When the client follows it
    with _client(handler) as client:
        assert refetched.wait(WAIT_S)
        changed = threading.Event()
        client.add_change_listener(lambda change: changed.set())
        if client.revision != 6:
            assert changed.wait(WAIT_S)

        # Then it downloaded the document again instead of applying the patch
        assert client.revision == 6
        assert client.is_enabled("checkout", "user-1") is False


def test_a_server_without_a_stream_is_polled_with_its_etag() -> None:
    # Given a server whose stream route is 404 and whose document changes on the third poll
    polls: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/stream"):
            return httpx.Response(404, json={"error": {"code": "not_found"}})
        if request.url.path.endswith("/heartbeat"):
            return httpx.Response(200, json={"environment": "production", "revision": 2})
        polls.append(request.headers.get("If-None-Match"))
        if len(polls) < 3:
            return _flags_response(1, enabled=True) if len(polls) == 1 else httpx.Response(304)
        return _flags_response(2, enabled=False)

    # When the client runs
    with _client(handler, poll_interval_s=0.01) as client:
        killed = threading.Event()
        client.add_change_listener(lambda change: killed.set() if change.revision == 2 else None)
        if client.revision != 2:
            assert killed.wait(WAIT_S)
        enabled = client.is_enabled("checkout", "user-1")

    # Then it polled with the ETag it got and applied the change
    assert polls[:3] == [None, '"1"', '"1"']
    assert enabled is False


def test_a_client_that_cannot_connect_turns_from_stale_to_error_after_the_grace_period() -> None:
    # Given a server that refuses every connection
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    statuses: list[ClientStatus] = []
    errored = threading.Event()

    # When a client keeps trying for longer than its grace period
    client = _client(handler, grace_period_s=0.05)
    client.add_status_listener(statuses.append)
    client.add_status_listener(
        lambda status: errored.set() if status is ClientStatus.ERROR else None
    )
    try:
        assert errored.wait(WAIT_S)
    finally:
        client.close()

    # Then it reported error, with the reason, and evaluations still answered the defaults
    assert ClientStatus.ERROR in statuses
    assert "connection refused" in (client.status_error or "")
    assert client.evaluate("checkout", "user-1", default=True).value is True


def test_a_listener_that_raises_does_not_stop_the_flags_from_updating() -> None:
    # Given a listener with a bug
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/stream"):
            return httpx.Response(200, content=b"", headers={"content-type": "text/event-stream"})
        return _flags_response(1, enabled=True)

    def broken(change: FlagsChanged) -> None:
        raise RuntimeError("bug in the application's listener")

    # When the client applies the first document
    with _client(handler) as client:
        client.add_change_listener(broken)
        # Then it serves the flags anyway
        assert client.is_enabled("checkout", "user-1") is True


def test_a_failed_metrics_flush_is_sent_again_with_the_same_window_ids() -> None:
    # Given a server whose metrics route fails once, then accepts
    batches: list[list[str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/metrics"):
            batches.append([window["id"] for window in json.loads(request.content)["windows"]])
            status = 503 if len(batches) == 1 else 200
            return httpx.Response(status, json={"recorded": 1, "duplicates": 0})
        if request.url.path.endswith("/stream"):
            return httpx.Response(404)
        if request.url.path.endswith("/heartbeat"):
            return httpx.Response(200, json={"environment": "production", "revision": 1})
        document = _document(True)
        document["flags"]["checkout"]["rules"] = [{"serve": {"split": {"on": 50, "off": 50}}}]  # type: ignore[index]
        return httpx.Response(200, json=document, headers={"X-Rheostat-Revision": "1"})

    # When a value is tracked and two flushes happen (the second when the client closes)
    with _client(handler, flush_interval_s=0.01, poll_interval_s=3600.0) as client:
        client.track("errors", "user-1", True)
        client._follower.metrics.give_back(  # type: ignore[union-attr]
            client._follower.metrics.take(now=SystemClock().now(), everything=True)  # type: ignore[union-attr]
        )
        clock = SystemClock()
        deadline = clock.monotonic() + WAIT_S
        while not batches and clock.monotonic() < deadline:
            clock.sleep(0.01)  # waiting for the flush thread, not asserting a time

    # Then the window that failed went again, with its id unchanged
    assert len(batches) == 2
    assert batches[0] == batches[1]
    assert len(batches[0]) == 1
