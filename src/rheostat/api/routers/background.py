"""Sending the webhook outbox after a request's change has committed (a background task)."""

from __future__ import annotations

import logging

from fastapi import BackgroundTasks, Request

from rheostat import service
from rheostat.errors import RheostatError
from rheostat.settings import Settings

__all__ = ["deliver_after_response"]

logger = logging.getLogger("rheostat.api")


def deliver_after_response(request: Request, background: BackgroundTasks) -> None:
    """Run one outbox pass after the response, if this app delivers webhooks
    (``RHEOSTAT_DELIVER_WEBHOOKS``; the controller loop delivers them in any case)."""
    if not getattr(request.app.state, "deliver_webhooks", False):
        return
    store = request.app.state.store
    settings = getattr(request.app.state, "settings", None)
    allow_private = not isinstance(settings, Settings) or settings.webhook_allow_private
    background.add_task(_deliver, store, service.DispatchPolicy(allow_private=allow_private))


def _deliver(store: service.SqlStore, policy: service.DispatchPolicy) -> None:
    try:
        service.deliver_webhooks(store, policy)
    except RheostatError as error:  # the outbox keeps it; the next pass delivers
        logger.warning("rheostat: webhook delivery pass failed: %s", error.message)
