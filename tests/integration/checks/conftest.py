"""Fixtures of the checks' tests: real servers on 127.0.0.1 (an HTTP app with a
Prometheus-like API, a TCP listener), each stopped when its test ends; Redis is the real one
on 127.0.0.1:6379."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

RELEASE = threading.Event()
"""Set when a server stops, so a request parked on /hang returns."""

_UP = {"api": ["1", "1"], "workers": ["1", "0"]}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        url = urlparse(self.path)
        if url.path == "/health":
            self._send(200, {"status": "ok"})
        elif url.path == "/broken":
            self._send(503, {"status": "down"})
        elif url.path == "/slow":
            RELEASE.wait(0.3)
            self._send(200, {"status": "slow"})
        elif url.path == "/hang":
            RELEASE.wait(30)
            self._send(200, {})
        elif url.path == "/-/ready":
            self._send(200, {})
        elif url.path == "/api/v1/query":
            self._query(parse_qs(url.query)["query"][0])
        else:
            self._send(404, {})

    def _query(self, query: str) -> None:
        job = query.split('"')[1]
        values = _UP.get(job, [])
        result = [
            {"metric": {"job": job, "instance": f"h{i}:9100"}, "value": [0, value]}
            for i, value in enumerate(values)
        ]
        self._send(200, {"status": "success", "data": {"resultType": "vector", "result": result}})

    def _send(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002  # the base's name
        del format, args


@pytest.fixture
def http_url() -> Iterator[str]:
    """Serve the app on a free port; yield its base URL."""
    RELEASE.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        RELEASE.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def tcp_port() -> Iterator[int]:
    """A listening TCP socket on a free port; yield the port."""
    listener = socket.create_server(("127.0.0.1", 0))
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port: int = probe.getsockname()[1]
    return port
