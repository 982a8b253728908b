"""``Follower``: the background thread that keeps a client's flags in step with the server.

It downloads the document (``GET /api/v1/client/flags``, with ``If-None-Match``), then follows
``GET /api/v1/client/stream`` from the revision it holds (``Last-Event-ID``). A ``patch`` whose
``base`` is not the client's revision is a gap: it refetches the document. When the server has
no stream (404, 405, 501) it polls with ``If-None-Match`` instead. Any failure is retried with
jittered exponential backoff, forever. Status: ``ready`` while connected, ``stale`` as soon as
the connection drops, ``error`` once it stayed down for ``grace_period_s`` (as flagd does).

Fork safety: threads do not survive ``fork()``, and a child that reused the parent's sockets
would interleave bytes with it. ``os.register_at_fork`` gives every follower in the child a
fresh HTTP client, fresh locks and a fresh thread, so a gunicorn or multiprocessing worker
keeps updating with no hook in the application.
"""

from __future__ import annotations

import json
import logging
import os
import random
import secrets
import socket
import threading
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

import httpx

from rheostat.clock import Clock, SystemClock
from rheostat.sdk._connections import OpenedSockets
from rheostat.sdk.events import EventStreamParser, ServerEvent
from rheostat.sdk.tracking import MetricBuffer

__all__ = ["ClientStatus", "Follower", "Sink", "SyncOptions"]

logger = logging.getLogger("rheostat.sdk")

_NO_STREAM = frozenset({404, 405, 501})
_POLLS_BEFORE_STREAM_RETRY = 20


class ClientStatus(StrEnum):
    """Whether the client's flags are known to be current."""

    READY = "ready"  # connected: the flags are the server's newest
    STALE = "stale"  # not connected (yet, or any more): the last known flags are served
    ERROR = "error"  # not connected for longer than the grace period


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncOptions:
    """How a client talks to the server (every default is what production wants).

    Attributes:
        stream: follow the SSE stream; ``False`` polls only.
        poll_interval_s: seconds between ETag polls when there is no stream.
        read_timeout_s: a stream silent for this long is reconnected (the server pings).
        connect_timeout_s: TCP connect and TLS timeout.
        grace_period_s: ``stale`` becomes ``error`` after this long without a connection.
        backoff_initial_s, backoff_max_s: jittered exponential backoff between retries.
        flush_interval_s: how often closed metric windows are sent.
        heartbeat_interval_s: how often the client reports the revision it runs (it also
            reports right after each change it applies).
        transport: an ``httpx`` transport (tests pass ``httpx.MockTransport``).
    """

    stream: bool = True
    poll_interval_s: float = 15.0
    read_timeout_s: float = 60.0
    connect_timeout_s: float = 5.0
    grace_period_s: float = 5.0
    backoff_initial_s: float = 0.2
    backoff_max_s: float = 30.0
    heartbeat_interval_s: float = 30.0
    flush_interval_s: float = 10.0
    transport: httpx.BaseTransport | None = None


class Sink(Protocol):
    """Where a follower puts what it receives (the ``Client``)."""

    @property
    def revision(self) -> int | None:
        """The revision of the document the client holds (``None``: none from the server)."""
        ...

    def apply_document(self, document: Mapping[str, Any], revision: int) -> None:
        """Serve ``document`` (raises ``InvalidDefinition`` if it cannot be compiled)."""
        ...

    def apply_patch(self, patch: Mapping[str, Any]) -> bool:
        """Apply a ``patch`` event; ``False`` when its ``base`` is not the held revision."""
        ...

    def set_status(self, status: ClientStatus, error: str | None) -> None:
        """Record the connection's status (listeners run on a change)."""
        ...


class _Failure(Exception):
    """A sync attempt failed; retried after backoff."""


class _Gap(Exception):
    """The stream skipped a revision: refetch the document."""


class Follower:
    """One thread per client; restarted in a forked child."""

    def __init__(
        self,
        *,
        url: str,
        headers: Mapping[str, str],
        params: Mapping[str, str],
        sink: Sink,
        options: SyncOptions,
    ) -> None:
        """Follow ``url`` (the server's base URL) for ``sink``; ``start`` starts the thread."""
        self._url = url.rstrip("/")
        self._headers = dict(headers)
        self._params = dict(params)
        self._sink = sink
        self._options = options
        self._clock: Clock = SystemClock()
        self._etag: str | None = None
        self._streaming = options.stream
        self._needs_document = True
        self._lost_at: float | None = None
        self._last_error: str | None = None
        self._reset_process_state()
        _register_for_fork(self)

    def _reset_process_state(self) -> None:
        """Everything that must not cross a fork: the HTTP client, events, the thread."""
        self._http = _http_client(self._headers, self._params, self._options)
        self._stop = threading.Event()
        self._sockets = OpenedSockets(stopped=self._stop)
        self.initialized = threading.Event()
        self._thread: threading.Thread | None = None
        self.instance_id = secrets.token_hex(8)  # a forked child is another process
        self.metrics = MetricBuffer(instance_id=self.instance_id)  # the parent sends its own
        self._beat = threading.Event()
        self._beater: threading.Thread | None = None
        self._heartbeats_wanted = True

    def start(self) -> None:
        """Start the background threads (sync, and heartbeats)."""
        self._thread = threading.Thread(target=self._run, name="rheostat-sync", daemon=True)
        self._thread.start()
        self._beater = threading.Thread(
            target=self._heartbeats, name="rheostat-heartbeat", daemon=True
        )
        self._beater.start()

    def close(self) -> None:
        """Stop the threads and join them: shutting down every connection they opened wakes
        a blocked read (a stream, or a request waiting for its answer) at once, and every
        wait between requests is on the stop event."""
        self._stop.set()
        self._flush(everything=True, timeout_s=2.0)
        self._sockets.shut_down_all()
        self._beat.set()
        for thread in (self._thread, self._beater):
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout=5.0)
        self._http.close()
        self._thread = self._beater = None

    def after_fork_in_child(self) -> None:
        """Drop the parent's connections and thread, and follow again from this process."""
        was_running = self._thread is not None and not self._stop.is_set()
        self._reset_process_state()  # the parent's sockets stay open for the parent
        if was_running:
            self.initialized.set()  # the child starts with the parent's flags
            self.start()

    @property
    def is_alive(self) -> bool:
        """Whether the thread runs in this process."""
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self._sync()
                failures = 0
            except _Gap:
                self._needs_document = True
            except Exception as error:  # noqa: BLE001  # the thread must never die; all retried
                if self._stop.is_set():
                    return  # close() cut the connection
                failures += 1
                self._lost(error)
                self.initialized.set()
                self._wait_backoff(failures)

    def _sync(self) -> None:
        if self._needs_document:
            self._download()
        if self._streaming:
            self._follow_stream()
            return
        for _ in range(_POLLS_BEFORE_STREAM_RETRY):
            if self._stop.wait(self._options.poll_interval_s):
                return
            self._download()
        self._streaming = self._options.stream

    def _download(self) -> None:
        headers = {} if self._etag is None else {"If-None-Match": self._etag}
        response = self._http.get(
            f"{self._url}/api/v1/client/flags", headers=headers, extensions=self._traced
        )
        if response.status_code == httpx.codes.OK:
            revision = int(response.headers.get("X-Rheostat-Revision", "0"))
            self._sink.apply_document(response.json(), revision)
            self._etag = response.headers.get("ETag")
            self._beat.set()
        elif response.status_code != httpx.codes.NOT_MODIFIED:
            raise _Failure(_describe(response))
        self._needs_document = False
        self._connected()

    def _follow_stream(self) -> None:
        headers = {"Accept": "text/event-stream"}
        if self._sink.revision is not None:
            headers["Last-Event-ID"] = str(self._sink.revision)
        with self._http.stream(
            "GET", f"{self._url}/api/v1/client/stream", headers=headers, extensions=self._traced
        ) as response:
            if response.status_code in _NO_STREAM:
                self._streaming = False  # an older or proxied server: poll instead
                return
            if response.status_code != httpx.codes.OK:
                raise _Failure(_describe(response))
            self._connected()
            self._read_events(response)

    def _read_events(self, response: httpx.Response) -> None:
        parser = EventStreamParser()
        for line in response.iter_lines():
            parsed = parser.feed(line)
            if isinstance(parsed, ServerEvent):
                self._apply(parsed)
            if self._stop.is_set():
                return

    def _apply(self, event: ServerEvent) -> None:
        if event.event == "flags" and event.id is not None:
            self._sink.apply_document(json.loads(event.data), int(event.id))
        elif event.event == "patch" and not self._sink.apply_patch(json.loads(event.data)):
            raise _Gap
        self._beat.set()  # tell the server at once: that is the proof a change landed

    def _heartbeats(self) -> None:
        """Report the revision served after each change and every ``heartbeat_interval_s``;
        send closed metric windows every ``flush_interval_s``."""
        options = self._options
        next_beat = 0.0
        while not self._stop.is_set():
            wait = min(options.flush_interval_s, max(0.0, next_beat - self._clock.monotonic()))
            asked = self._beat.wait(wait)
            self._beat.clear()
            if self._stop.is_set():
                return
            self._flush(everything=False, traced=True)
            if asked or self._clock.monotonic() >= next_beat:
                next_beat = self._clock.monotonic() + options.heartbeat_interval_s
                self._send_heartbeat()

    def _flush(
        self, *, everything: bool, timeout_s: float | None = None, traced: bool = False
    ) -> None:
        """Send the closed metric windows (all of them with ``everything``). Only the
        heartbeat thread's flushes are ``traced``: close() sends its own after stopping."""
        batch = self.metrics.take(now=self._clock.now(), everything=everything)
        if not batch:
            return
        url = f"{self._url}/api/v1/client/metrics"
        timeout = self._http.timeout if timeout_s is None else httpx.Timeout(timeout_s)
        extensions = self._traced if traced else None
        try:
            response = self._http.post(
                url, json={"windows": batch}, timeout=timeout, extensions=extensions
            )
        except httpx.HTTPError as error:
            logger.debug("rheostat: metrics flush failed, kept for the next one: %s", error)
            self.metrics.give_back(batch)
            return
        if response.status_code >= httpx.codes.INTERNAL_SERVER_ERROR:
            self.metrics.give_back(batch)  # the server may take them later; 4xx never will
        elif response.status_code != httpx.codes.OK:
            logger.warning("rheostat: metrics refused: %s", _describe(response))

    def _send_heartbeat(self) -> None:
        revision = self._sink.revision
        if revision is None or not self._heartbeats_wanted:
            return
        body = {
            "instance_id": self.instance_id,
            "revision": revision,
            "hostname": socket.gethostname()[:255],
            "pid": os.getpid(),
            "sdk": "rheostat-python",
        }
        try:
            response = self._http.post(
                f"{self._url}/api/v1/client/heartbeat", json=body, extensions=self._traced
            )
        except httpx.HTTPError as error:  # the sync thread reports the connection's state
            logger.debug("rheostat: heartbeat failed: %s", error)
            return
        if response.status_code in _NO_STREAM:
            self._heartbeats_wanted = False  # a server without heartbeats

    @property
    def _traced(self) -> dict[str, Any]:
        """The request extensions of the threads' requests: httpcore reports each connection
        it opens, so close() can shut it down (a stopped follower's at once)."""
        return {"trace": self._sockets.trace}

    def _connected(self) -> None:
        self._lost_at = None
        self.initialized.set()
        if self._sink.revision is not None:
            self._sink.set_status(ClientStatus.READY, None)

    def _lost(self, error: Exception) -> None:
        now = self._clock.monotonic()
        if self._lost_at is None:
            self._lost_at = now
            logger.warning("rheostat: lost the flag server (%s); retrying", _first_line(error))
        self._last_error = _first_line(error)
        overdue = now - self._lost_at >= self._options.grace_period_s
        status = ClientStatus.ERROR if overdue else ClientStatus.STALE
        self._sink.set_status(status, self._last_error)

    def _wait_backoff(self, failures: int) -> None:
        options = self._options
        delay = min(options.backoff_max_s, options.backoff_initial_s * 2 ** (failures - 1))
        delay *= random.uniform(0.5, 1.0)  # noqa: S311  # jitter, not cryptography
        if self._lost_at is not None:  # wake up in time to turn stale into error
            until_error = self._lost_at + options.grace_period_s - self._clock.monotonic()
            if 0 < until_error < delay:
                self._stop.wait(until_error)
                self._sink.set_status(ClientStatus.ERROR, self._last_error)
                delay -= until_error
        self._stop.wait(delay)


def _http_client(
    headers: Mapping[str, str], params: Mapping[str, str], options: SyncOptions
) -> httpx.Client:
    timeout = httpx.Timeout(
        options.connect_timeout_s, read=options.read_timeout_s, connect=options.connect_timeout_s
    )
    return httpx.Client(
        headers=headers, params=params, timeout=timeout, transport=options.transport
    )


def _describe(response: httpx.Response) -> str:
    response.read()
    return f"HTTP {response.status_code} from {response.request.url.path}: {response.text[:200]}"


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


_FOLLOWERS: weakref.WeakSet[Follower] = weakref.WeakSet()
_fork_hook: list[Callable[[], None]] = []


def _register_for_fork(follower: Follower) -> None:
    """Remember ``follower``; the first one registers the process's fork hook."""
    _FOLLOWERS.add(follower)
    if not _fork_hook and hasattr(os, "register_at_fork"):
        _fork_hook.append(_restart_followers)
        os.register_at_fork(after_in_child=_restart_followers)


def _restart_followers() -> None:
    for follower in list(_FOLLOWERS):
        follower.after_fork_in_child()
