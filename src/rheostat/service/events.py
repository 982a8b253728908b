"""Emitting events: into the webhook outbox in the caller's transaction, and to in-process
hooks after it commits.

The outbox row is written with the change it tells about, so either both are committed or
neither is; a dispatcher (``deliver_webhooks``) sends it afterwards. A crash between the
commit and the send loses nothing: the next dispatcher pass sends it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from rheostat.store.operations_records import OutboxEvent
from rheostat.store.unit_of_work import UnitOfWork

__all__ = ["EVENT_TYPES", "emit_event"]

EVENT_TYPES = (
    "rollback.started",
    "rollback.step",
    "rollback.completed",
    "rollback.cancelled",
    "plan.started",
    "plan.paused",
    "plan.resumed",
    "plan.rolling_back",
    "plan.rolled_back",
    "plan.completed",
    "plan.failed",
    "plan.aborted",
    "alert.firing",
    "alert.resolved",
)
"""Every event type rheostat emits (a webhook may ask for ``rollback.*`` and the like)."""


def emit_event(
    uow: UnitOfWork, event_type: str, *, environment: str | None, data: Mapping[str, Any]
) -> OutboxEvent:
    """Record ``event_type`` with ``data``: one outbox delivery per webhook that wants it, in
    ``uow``'s transaction, and the store's event listeners once it commits."""
    event = OutboxEvent(
        id=uuid.uuid4().hex,
        type=event_type,
        environment=environment,
        at=uow.now,
        data=dict(data),
    )
    uow.webhooks.enqueue(event)
    uow.events.append(event)
    return event
