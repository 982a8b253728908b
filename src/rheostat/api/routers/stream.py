"""``GET /api/v1/client/stream``: the environment's flags as Server-Sent Events.

Every event carries ``id: <revision>``. On connect the client gets ``event: flags`` (the whole
document, as ``GET /api/v1/client/flags`` returns it), unless its ``Last-Event-ID`` already
names the current revision (then nothing until the next change). Each change then comes as
``event: patch``: ``{"revision", "base", "flags": {key: definition | null}, "segments": {...}}``,
to apply to the document at revision ``base`` (``null`` removes the key). A client that lagged
behind ``base`` gets ``event: flags`` instead. Comments (``: ping``) keep idle connections open.
A stream ends after ``RHEOSTAT_STREAM_MAX_S`` (so clients spread over replicas again after a
deploy); the client reconnects with ``Last-Event-ID`` and nothing is sent twice.
"""

from __future__ import annotations

from typing import Annotated

from anyio import from_thread
from fastapi import APIRouter, Header, Query, Request, Security
from fastapi.security import HTTPAuthorizationCredentials

from rheostat.api.deps import SnapshotsDep, StoreDep, bearer
from rheostat.api.event_stream import EventStream
from rheostat.api.sdk_access import sdk_unit
from rheostat.api.stream_hub import StreamHub
from rheostat.errors import ConfigurationError

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/client", tags=["sdk"])


def _hub(request: Request) -> StreamHub:
    hub = getattr(request.app.state, "stream_hub", None)
    if not isinstance(hub, StreamHub):
        raise ConfigurationError("the application is not started (its lifespan has not run)")
    return hub


@router.get(
    "/stream",
    # Errors are JSON like every route's: only the 200 is an event stream (documented here,
    # not as the route's response class, which would document the errors as streams too).
    responses={
        200: {
            "description": "text/event-stream of flag changes",
            "content": {"text/event-stream": {}},
        }
    },
)
def client_stream(
    request: Request,
    store: StoreDep,
    snapshots: SnapshotsDep,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
    environment: Annotated[
        str | None,
        Query(max_length=63, description="defaults to an sdk key's own environment"),
    ] = None,
    x_api_key: Annotated[str | None, Header(description="alternative to Bearer")] = None,
    last_event_id: Annotated[
        str | None, Header(alias="Last-Event-ID", description="the last revision you applied")
    ] = None,
) -> EventStream:
    """Follow the environment's flags: the document on connect, then each change.

    The key is checked and the first snapshot read in one short transaction, in one worker
    thread, so a reconnecting crowd (every SDK after a deploy) never holds pooled connections
    while it waits for a thread. The hub's state is touched only on the event loop.
    """
    hub = _hub(request)
    with sdk_unit(store, request, environment=environment, x_api_key=x_api_key) as (uow, target):
        subscription = from_thread.run_sync(hub.subscribe, target)  # before the read
        try:
            current = snapshots.get(uow, target)
        except BaseException:
            from_thread.run_sync(hub.unsubscribe, subscription)
            raise
    from_thread.run_sync(hub.observe, current)
    state = request.app.state
    return EventStream(
        subscription,
        current=current,
        sent=_revision(last_event_id),
        keepalive_s=state.stream_keepalive_s,
        lifetime_s=state.stream_max_s,
        release=hub.unsubscribe,
    )


def _revision(last_event_id: str | None) -> int | None:
    text = (last_event_id or "").strip()
    return int(text) if text.isdigit() and len(text) < 19 else None
