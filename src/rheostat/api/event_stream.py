"""``EventStream``: a lean ``text/event-stream`` response for one SSE client of the hub.

Why not ``sse-starlette``: with a thousand clients a change is written a thousand times, so
what one write costs is the latency of the last client. ``EventSourceResponse`` runs four tasks
per connection in an anyio task group and, per event, a cancel scope around ``send`` (plus the
``asyncio.timeout`` our loop needed for the stream's lifetime). Here one task per connection
waits on its ``Subscription`` and writes the bytes the hub encoded once, as they are; a second,
idle task hears the disconnect; the lifetime and the keep-alives are timer callbacks
(``loop.call_at``), not tasks, and cost nothing per event.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from rheostat.api.stream_hub import Subscription, full_event
from rheostat.service import Snapshot

__all__ = ["KEEPALIVE", "EventStream"]

KEEPALIVE = b": ping\n\n"
"""The comment an idle stream gets every keep-alive interval (proxies close silent ones)."""


class EventStream(Response):
    """The document (unless the client has it), then each change the hub offers.

    The stream ends after ``lifetime_s`` (the client reconnects with ``Last-Event-ID`` and
    nothing is sent twice), when the client disconnects, or when a write fails. The
    subscription is always given back to the hub through ``release``.
    """

    media_type = "text/event-stream"

    def __init__(
        self,
        subscription: Subscription,
        *,
        current: Snapshot,
        sent: int | None,
        keepalive_s: float,
        lifetime_s: float,
        release: Callable[[Subscription], None],
    ) -> None:
        """Stream ``subscription``; ``sent`` is the revision the client already has."""
        # not Response.__init__: it would render an empty body and send Content-Length: 0
        self.status_code = 200
        self.background = None
        self.init_headers({"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        self._subscription = subscription
        self._current = current
        self._sent = sent
        self._keepalive_s = keepalive_s
        self._lifetime_s = lifetime_s
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Write the stream until its lifetime ends or the client goes."""
        subscription = self._subscription
        loop = asyncio.get_running_loop()
        ends = loop.call_at(loop.time() + self._lifetime_s, subscription.close)
        pings = _Pings(loop, subscription, self._keepalive_s)
        hangup = loop.create_task(_hear_disconnect(receive, subscription))
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            if self._sent != self._current.revision:
                await send(_body(full_event(self._current)))
            sent = self._current.revision
            while True:
                await subscription.wait()
                if subscription.closed:
                    break
                frames, sent = _frames(subscription, sent)
                if frames:
                    await send(_body(frames))
            if not subscription.hung_up:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:  # the client went while we wrote (ASGI 2.4 servers raise this)
            pass
        finally:
            ends.cancel()
            pings.cancel()
            hangup.cancel()
            self._release(subscription)


def _body(frames: bytes) -> Message:
    return {"type": "http.response.body", "body": frames, "more_body": True}


def _frames(subscription: Subscription, sent: int) -> tuple[bytes, int]:
    """The bytes owed to a client that has revision ``sent``, and its revision after them."""
    frames = []
    if subscription.ping:
        subscription.ping = False
        frames.append(KEEPALIVE)
    for event in subscription.take():
        if event.revision <= sent:
            continue  # already in what this client got
        frames.append(event.patch if event.base == sent else event.full)
        sent = event.revision
    return (frames[0] if len(frames) == 1 else b"".join(frames)), sent


async def _hear_disconnect(receive: Receive, subscription: Subscription) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            subscription.close(hung_up=True)
            return


class _Pings:
    """A keep-alive every ``interval_s`` on one stream: a timer, re-armed when it fires."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, subscription: Subscription, interval_s: float
    ) -> None:
        self._loop = loop
        self._subscription = subscription
        self._interval_s = interval_s
        self._handle = loop.call_later(interval_s, self._fire)

    def _fire(self) -> None:
        self._subscription.request_ping()
        self._handle = self._loop.call_later(self._interval_s, self._fire)

    def cancel(self) -> None:
        self._handle.cancel()
