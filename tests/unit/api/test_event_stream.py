"""``EventStream`` and ``Subscription`` driven as ASGI on a real event loop (no server).

The stream is called the way uvicorn calls it: ``receive`` yields the request, then the
disconnect when the test says so; ``send`` records each message.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from starlette.types import Message

from rheostat.api.event_stream import KEEPALIVE, EventStream
from rheostat.api.stream_hub import StreamEvent, StreamHub, Subscription, full_event
from rheostat.service import Snapshot, SnapshotCache, SqlStore


def _snapshot(revision: int) -> Snapshot:
    document = {"version": 1, "segments": {}, "flags": {"f": {"version": revision}}}
    body = json.dumps(document, separators=(",", ":")).encode()
    return Snapshot(environment="prod", document=document, etag='"x"', revision=revision, body=body)


def _event(revision: int) -> StreamEvent:
    patch = b"id: %d\nevent: patch\ndata: {}\n\n" % revision
    return StreamEvent(
        revision=revision, base=revision - 1, patch=patch, full=full_event(_snapshot(revision))
    )


class _Client:
    """The ASGI side of one connection: what was sent, and a way to hang up."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.released: list[Subscription] = []
        self._hangup = asyncio.Event()
        self._asked = False

    async def receive(self) -> Message:
        if not self._asked:
            self._asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self._hangup.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        self.messages.append(message)

    def hang_up(self) -> None:
        self._hangup.set()

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.messages[1:])

    @property
    def ended(self) -> bool:
        return self.messages[-1] == {
            "type": "http.response.body",
            "body": b"",
            "more_body": False,
        }


def _stream(
    client: _Client,
    subscription: Subscription,
    *,
    current: int = 5,
    sent: int | None = None,
    keepalive_s: float = 60.0,
    lifetime_s: float = 60.0,
) -> EventStream:
    return EventStream(
        subscription,
        current=_snapshot(current),
        sent=sent,
        keepalive_s=keepalive_s,
        lifetime_s=lifetime_s,
        release=client.released.append,
    )


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_the_document_comes_first_then_each_change_as_its_patch() -> None:
    async def scenario() -> _Client:
        # Given a new client at revision 5
        client, subscription = _Client(), Subscription("prod")
        task = asyncio.create_task(
            _stream(client, subscription)(_scope(), client.receive, client.send)
        )
        await _settle()
        # When revisions 6 and 7 are offered, one at a time, then the client hangs up
        subscription.offer(_event(6))
        await _settle()
        subscription.offer(_event(7))
        await _settle()
        client.hang_up()
        await task
        return client

    client = asyncio.run(scenario())

    # Then: headers, the document, patch 6, patch 7; nothing written after the hang-up
    assert client.messages[0]["type"] == "http.response.start"
    assert (b"content-type", b"text/event-stream; charset=utf-8") in client.messages[0]["headers"]
    assert client.body == full_event(_snapshot(5)) + _event(6).patch + _event(7).patch
    assert not client.ended
    assert client.released == [client.released[0]]


def test_an_up_to_date_client_gets_nothing_again_and_old_events_are_skipped() -> None:
    async def scenario() -> _Client:
        # Given a client resuming at the current revision 5
        client, subscription = _Client(), Subscription("prod")
        stream = _stream(client, subscription, sent=5, lifetime_s=0.05)
        task = asyncio.create_task(stream(_scope(), client.receive, client.send))
        # When revision 5 (which it has) and 6 are offered, and its lifetime ends
        subscription.offer(_event(5))
        subscription.offer(_event(6))
        await task
        return client

    client = asyncio.run(scenario())

    # Then only the patch to 6, and the stream ended cleanly (the client will resume)
    assert client.body == _event(6).patch
    assert client.ended


def test_a_client_that_fell_far_behind_gets_the_newest_document_not_every_patch() -> None:
    async def scenario() -> _Client:
        # Given a client at revision 5 whose stream has not run yet
        client, subscription = _Client(), Subscription("prod")
        stream = _stream(client, subscription, lifetime_s=0.05)
        # When 40 changes are offered before it writes anything
        for revision in range(6, 46):
            subscription.offer(_event(revision))
        await stream(_scope(), client.receive, client.send)
        return client

    client = asyncio.run(scenario())

    # Then it got the document at 5, then (its queue of 32 overflowed at 38, dropping 6 to 37)
    # the whole document at 38 and the patches after it
    patches = b"".join(_event(revision).patch for revision in range(39, 46))
    assert client.body == full_event(_snapshot(5)) + full_event(_snapshot(38)) + patches


def test_an_idle_stream_gets_keepalive_comments() -> None:
    async def scenario() -> _Client:
        client, subscription = _Client(), Subscription("prod")
        stream = _stream(client, subscription, sent=5, keepalive_s=0.01, lifetime_s=0.1)
        await stream(_scope(), client.receive, client.send)
        return client

    client = asyncio.run(scenario())

    # Then only comments were written, and more than one
    assert client.body.count(KEEPALIVE) >= 2
    assert client.body.replace(KEEPALIVE, b"") == b""


def _scope() -> dict[str, object]:
    return {"type": "http", "method": "GET", "path": "/api/v1/client/stream"}


def test_ending_the_streams_closes_every_subscription_and_each_one_that_comes_after(
    tmp_path: Path,
) -> None:
    # Given a hub with two clients in two environments
    store = SqlStore(f"sqlite:///{tmp_path / 'rheostat.db'}")  # never connects here
    hub = StreamHub(store, SnapshotCache(), poll_interval_s=1.0)
    first, second = hub.subscribe("production"), hub.subscribe("staging")

    # When the server stops
    ended = hub.end_streams()
    late = hub.subscribe("production")

    # Then both streams end (not hung up: they finish their response), and so does a late one
    assert ended == 2
    assert all(s.closed and not s.hung_up for s in (first, second, late))
    assert hub.client_count == 2  # each leaves when its stream has ended (release)
    store.close()
