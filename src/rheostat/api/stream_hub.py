"""``StreamHub``: one replica's fan-out of flag changes to its SSE clients.

A change reaches the hub from three places: this process's commits (the store's change
listener), other replicas' commits (``LISTEN`` on PostgreSQL), and a cheap poll of the
subscribed environments' revisions (writers the first two cannot hear: the CLI on SQLite, or
a PostgreSQL feed that was reconnecting). The hub then reads the environment's snapshot once,
encodes one ``patch`` event against the snapshot it published before (and the full document,
for clients that were not at that revision), and hands the same bytes to every subscriber.
Encoding once per change, not once per client, is what keeps fan-out cheap.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rheostat import service
from rheostat.errors import NotFound
from rheostat.service import ChangeFeed, Snapshot, SnapshotCache, SqlStore

__all__ = ["StreamEvent", "StreamHub", "Subscription", "full_event"]

logger = logging.getLogger("rheostat.api")

_QUEUE_SIZE = 32
"""Events one subscriber may lag behind; beyond, it gets the newest full document instead."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamEvent:
    """One change, encoded once as SSE frames.

    Attributes:
        revision: the environment's revision after the change.
        base: the revision ``patch`` applies to.
        patch: ``event: patch`` frame (only the flags and segments that changed).
        full: ``event: flags`` frame (the whole document at ``revision``).
    """

    revision: int
    base: int
    patch: bytes
    full: bytes


class Subscription:
    """One SSE client's pending events, and the one task (its stream) that waits for them.

    Everything here runs on the event loop. ``offer`` and the other wake-ups resolve the
    waiting task's future directly: no queue, no lock, no timer per event.
    """

    __slots__ = ("_events", "_waiter", "closed", "environment", "hung_up", "ping")

    def __init__(self, environment: str) -> None:
        """A client of ``environment`` with nothing pending."""
        self.environment = environment
        self.ping = False
        self.closed = False
        self.hung_up = False
        self._events: deque[StreamEvent] = deque()
        self._waiter: asyncio.Future[None] | None = None

    def offer(self, event: StreamEvent) -> None:
        """Queue ``event``; a client too far behind gets only the newest (its full document)."""
        if len(self._events) >= _QUEUE_SIZE:
            self._events.clear()
        self._events.append(event)
        self._wake()

    def request_ping(self) -> None:
        """Ask the stream for a keep-alive comment."""
        self.ping = True
        self._wake()

    def close(self, *, hung_up: bool = False) -> None:
        """End the stream (``hung_up``: the client is gone, write nothing more)."""
        self.closed = True
        self.hung_up = self.hung_up or hung_up
        self._wake()

    def take(self) -> list[StreamEvent]:
        """The pending events, oldest first, and forget them."""
        events = list(self._events)
        self._events.clear()
        return events

    async def wait(self) -> None:
        """Return once there is an event, a ping or the end to handle."""
        if self._events or self.ping or self.closed:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiter = waiter
        try:
            await waiter
        finally:
            self._waiter = None

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


def full_event(snapshot: Snapshot) -> bytes:
    """The ``event: flags`` frame of ``snapshot`` (its body is compact JSON: one line)."""
    return b"id: %d\nevent: flags\ndata: %s\n\n" % (snapshot.revision, snapshot.body)


def _patch_event(before: Snapshot, after: Snapshot) -> bytes:
    data = {
        "revision": after.revision,
        "base": before.revision,
        "flags": _changed(before.document["flags"], after.document["flags"]),
        "segments": _changed(before.document["segments"], after.document["segments"]),
    }
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return b"id: %d\nevent: patch\ndata: %s\n\n" % (after.revision, body)


def _changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """Keys whose value changed (new or edited: the value; removed: ``None``)."""
    changed = {key: value for key, value in after.items() if before.get(key) != value}
    changed.update({key: None for key in before if key not in after})
    return changed


class StreamHub:
    """Subscribers per environment, and the one refresh task per changed environment."""

    def __init__(
        self, store: SqlStore, snapshots: SnapshotCache, *, poll_interval_s: float
    ) -> None:
        """Serve ``store``'s changes; poll subscribed revisions every ``poll_interval_s``."""
        self._store = store
        self._snapshots = snapshots
        self._poll_interval_s = poll_interval_s
        self._subscribers: dict[str, set[Subscription]] = {}
        self._published: dict[str, Snapshot] = {}
        self._pending: set[str] = set()
        self._refreshing: dict[str, asyncio.Task[None]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._poller: asyncio.Task[None] | None = None
        self._feed: ChangeFeed | None = None
        self._ending = False

    async def start(self) -> None:
        """Hear this process's commits, LISTEN on PostgreSQL, and start the poll."""
        self._loop = asyncio.get_running_loop()
        self._store.add_change_listener(self.changed_threadsafe)
        self._feed = self._store.follow_changes(self.changed_threadsafe)
        self._poller = asyncio.create_task(self._poll(), name="rheostat-stream-poll")

    async def close(self) -> None:
        """Stop the poll, the feed and the refresh tasks."""
        tasks = [task for task in (self._poller, *self._refreshing.values()) if task]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._feed is not None:
            await asyncio.to_thread(self._feed.close)
        self._loop = None

    @property
    def client_count(self) -> int:
        """How many SSE clients this replica serves."""
        return sum(len(subscribers) for subscribers in self._subscribers.values())

    def subscribe(self, environment: str) -> Subscription:
        """Register a client; call before reading its first snapshot so no change slips by.

        Once the streams are ending (``end_streams``), the subscription comes back closed:
        its stream sends the document, if the client needs it, and ends at once.
        """
        subscription = Subscription(environment)
        if self._ending:
            subscription.close()
            return subscription
        self._subscribers.setdefault(environment, set()).add(subscription)
        return subscription

    def end_streams(self) -> int:
        """End every client's stream cleanly (the server is stopping), and every stream that
        starts from now on; return how many were open. Clients reconnect with
        ``Last-Event-ID`` (to another replica, if there is one) and miss nothing."""
        self._ending = True
        subscriptions = [s for subscribers in self._subscribers.values() for s in subscribers]
        for subscription in subscriptions:
            subscription.close()
        return len(subscriptions)

    def unsubscribe(self, subscription: Subscription) -> None:
        """Forget a client (its connection closed)."""
        subscribers = self._subscribers.get(subscription.environment, set())
        subscribers.discard(subscription)
        if not subscribers:
            self._subscribers.pop(subscription.environment, None)

    def observe(self, taken: Snapshot) -> None:
        """Note a snapshot a client was just sent (on the loop): one newer than the hub's
        published one is a change it has not heard of yet, so publish it."""
        published = self._published.get(taken.environment)
        if published is None:
            self._published[taken.environment] = taken
        elif published.revision < taken.revision:
            self.changed(taken.environment)

    def changed_threadsafe(self, environment: str | None) -> None:
        """``changed`` from any thread (commit listeners, the LISTEN thread)."""
        loop = self._loop
        if loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop closed while the server stopped
            loop.call_soon_threadsafe(self.changed, environment)

    def changed(self, environment: str | None) -> None:
        """Publish ``environment``'s newest state to its subscribers (``None``: every one)."""
        targets = list(self._subscribers) if environment is None else [environment]
        for target in targets:
            if target not in self._subscribers:
                continue
            self._pending.add(target)
            if target not in self._refreshing:
                task = asyncio.create_task(self._refresh(target), name=f"rheostat-{target}")
                self._refreshing[target] = task

    async def _refresh(self, environment: str) -> None:
        try:
            while environment in self._pending:
                self._pending.discard(environment)
                await self._publish(environment)
        finally:
            self._refreshing.pop(environment, None)

    async def _publish(self, environment: str) -> None:
        try:
            after = await asyncio.to_thread(self._read, environment)
        except NotFound:
            return  # deleted; its clients keep the last document
        except Exception:  # the poll retries; a failed read must not kill the hub
            logger.exception("rheostat: could not read %r for the stream", environment)
            return
        before = self._published.get(environment)
        if before is not None and after.revision <= before.revision:
            return
        self._published[environment] = after
        full = full_event(after)
        event = StreamEvent(
            revision=after.revision,
            base=-1 if before is None else before.revision,
            patch=full if before is None else _patch_event(before, after),
            full=full,
        )
        for subscription in list(self._subscribers.get(environment, ())):
            subscription.offer(event)

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self._poll_interval_s)
            environments = list(self._subscribers)
            if not environments:
                continue
            try:
                revisions = await asyncio.to_thread(self._revisions, environments)
            except Exception:  # the database may be down for a while; keep polling
                logger.exception("rheostat: the stream's revision poll failed")
                continue
            for environment, revision in revisions.items():
                published = self._published.get(environment)
                if published is None or published.revision < revision:
                    self.changed(environment)

    def _read(self, environment: str) -> Snapshot:
        with self._store.reading() as uow:
            return self._snapshots.get(uow, environment)

    def _revisions(self, environments: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        with self._store.reading() as uow:
            for environment in environments:
                with contextlib.suppress(NotFound):
                    found[environment] = service.revision_of(uow, environment)
        return found
