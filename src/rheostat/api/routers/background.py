"""Sending the webhook outbox after a request's change has committed (a background task)."""

from __future__ import annotations

import logging

from fastapi import BackgroundTasks, Request

from rheostat import service
from rheostat.errors import RheostatError

__all__ = ["deliver_after_response"]

logger = logging.getLogger("rheostat.api")


def deliver_after_response(request: Request, background: BackgroundTasks) -> None:
    """Run one outbox pass after the response, if this app delivers webhooks
    (``RHEOSTAT_DELIVER_WEBHOOKS``; the controller loop delivers them in any case)."""
    if not getattr(request.app.state, "deliver_webhooks", False):
        return
    store = request.app.state.store
    background.add_task(_deliver, store)


def _deliver(store: service.SqlStore) -> None:
    try:
        service.deliver_webhooks(store)
    except RheostatError as error:  # the outbox keeps it; the next pass delivers
        logger.warning("rheostat: webhook delivery pass failed: %s", error.message)
