"""``Client.close()`` stops the SDK's threads at once, whatever they wait on.

Review finding: ``Follower.close`` sometimes waited out its 5 s join. It shut down the
stream's socket only once the stream's response headers had arrived, so a close while the
stream request was still in flight (right after the first download, or against a server slow
to answer) or while the heartbeat thread waited on a POST left the thread blocked, for up to
the read timeout. A close that did not interrupt its threads leaves them alive after its
join gives up: that is what these tests check (no timing is measured).
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

import rheostat
from rheostat.sdk import SyncOptions

DOCUMENT = json.dumps({"version": 1, "flags": {}}).encode()
WAIT_S = 30.0
"""A guard against hanging, never a measurement."""


@dataclass
class _Server:
    """A loopback HTTP/1.1 server that answers the flag download and holds other requests.

    ``stream_headers``: send the stream's headers and first event before holding it.
    ``stream_held`` and ``heartbeat_held`` are set once such a request is held (until the
    test ends).
    """

    stream_headers: bool
    hold_heartbeats: bool = False
    stream_held: threading.Event = field(default_factory=threading.Event)
    heartbeat_held: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    url: str = ""

    def serve(self, connection: socket.socket) -> None:
        with connection:
            while (path := _request_path(connection)) is not None:
                if path.startswith("/api/v1/client/flags"):
                    connection.sendall(_response(200, DOCUMENT, revision=1))
                elif path.startswith("/api/v1/client/stream"):
                    self._hold_stream(connection)
                    return
                elif self.hold_heartbeats and path.startswith("/api/v1/client/heartbeat"):
                    self._hold(self.heartbeat_held)
                    return
                else:
                    connection.sendall(_response(200, b"{}"))

    def _hold_stream(self, connection: socket.socket) -> None:
        if self.stream_headers:
            event = b"id: 1\nevent: flags\ndata: " + DOCUMENT + b"\n\n"
            connection.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n" + b"%x\r\n%s\r\n" % (len(event), event)
            )
        self._hold(self.stream_held)

    def _hold(self, held: threading.Event) -> None:
        held.set()
        self.done.wait(WAIT_S)


def _request_path(connection: socket.socket) -> str | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    while len(body) < length:
        body += connection.recv(65536)
    return head.split(b" ")[1].decode()


def _response(status: int, body: bytes, *, revision: int | None = None) -> bytes:
    extra = (
        b""
        if revision is None
        else b'X-Rheostat-Revision: %d\r\nETag: "%d"\r\n'
        % (
            revision,
            revision,
        )
    )
    return b"HTTP/1.1 %d OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s" % (
        status,
        len(body),
        extra,
        body,
    )


def _started(server: _Server) -> Iterator[_Server]:
    listener = socket.create_server(("127.0.0.1", 0))
    server.url = f"http://127.0.0.1:{listener.getsockname()[1]}"

    def accept() -> None:
        while not server.done.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=server.serve, args=(connection,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield server
    finally:
        server.done.set()
        listener.close()


@pytest.fixture
def live_stream() -> Iterator[_Server]:
    yield from _started(_Server(stream_headers=True))


@pytest.fixture
def stream_never_answered() -> Iterator[_Server]:
    yield from _started(_Server(stream_headers=False))


@pytest.fixture
def heartbeat_never_answered() -> Iterator[_Server]:
    yield from _started(_Server(stream_headers=True, hold_heartbeats=True))


def _sdk_threads_after_close(url: str, *, wait_for: threading.Event, **options: float) -> list:
    before = set(threading.enumerate())
    client = rheostat.Client(url=url, api_key="rh_sdk_x", options=SyncOptions(**options))
    sdk_threads = [t for t in set(threading.enumerate()) - before if t.name.startswith("rheostat")]
    assert wait_for.wait(WAIT_S)
    client.close()
    return [thread for thread in sdk_threads if thread.is_alive()]


def test_close_interrupts_a_live_stream(live_stream: _Server) -> None:
    # Given a client following a stream that stays open and silent (a 60 s read timeout)
    # When it is closed / Then its threads are gone when close() returns
    assert _sdk_threads_after_close(live_stream.url, wait_for=live_stream.stream_held) == []


def test_close_interrupts_a_stream_request_still_waiting_for_its_answer(
    stream_never_answered: _Server,
) -> None:
    # Given a client whose stream request the server never answers
    # When it is closed / Then its threads are gone when close() returns
    url = stream_never_answered.url
    assert _sdk_threads_after_close(url, wait_for=stream_never_answered.stream_held) == []


def test_close_interrupts_a_heartbeat_waiting_for_its_answer(
    heartbeat_never_answered: _Server,
) -> None:
    # Given a client whose heartbeat the server never answers
    server = heartbeat_never_answered

    # When it is closed / Then its threads are gone when close() returns
    alive = _sdk_threads_after_close(
        server.url, wait_for=server.heartbeat_held, heartbeat_interval_s=0.01
    )
    assert alive == []
