"""Webhooks: where events are POSTed, each with its own signing secret.

The secret is generated (or given) at creation and returned that once; deliveries are signed
with it (``rheostat.webhook_signatures``). Removing a webhook keeps its delivery log.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from urllib.parse import urlsplit

from rheostat.errors import NotFound, ValidationError
from rheostat.inputs import validate_lookup, validate_text
from rheostat.service.audit import record_audit
from rheostat.service.change import Change
from rheostat.service.webhook_targets import url_problem
from rheostat.store.operations_records import CreatedWebhook, Webhook, WebhookDelivery
from rheostat.store.records import AuditAction
from rheostat.store.unit_of_work import UnitOfWork

__all__ = [
    "create_webhook",
    "get_webhook",
    "list_webhooks",
    "remove_webhook",
    "webhook_deliveries",
]

_MAX_URL = 2000
_MAX_EVENTS = 50
_MIN_SECRET, _MAX_SECRET = 16, 200
_MAX_DELIVERIES = 1000
_EVENT = re.compile(r"\*|[a-z][a-z_]{0,30}(\.[a-z][a-z_]{0,30})?(\.\*)?")
_PUBLIC_ID = re.compile(r"wh_[A-Za-z0-9_-]{1,37}")


def create_webhook(  # noqa: PLR0913  # uow, url, then keyword-only options
    uow: UnitOfWork,
    url: str,
    *,
    events: Sequence[str] = (),
    environment: str | None = None,
    description: str = "",
    secret: str | None = None,
    allow_private: bool = True,
    change: Change,
) -> CreatedWebhook:
    """Store a webhook; return it with its secret (shown this once).

    Args:
        url: an ``http://`` or ``https://`` URL.
        events: event types (``rollback.started``) or families (``rollback.*``); empty: all.
        environment: only events of this environment (``None``: all).
        secret: at least 16 characters; generated when omitted.
        allow_private: whether loopback and private addresses may receive it
            (``RHEOSTAT_WEBHOOK_ALLOW_PRIVATE``); link-local and cloud metadata addresses
            never may (``webhook_targets``). Deliveries check the resolved address again.

    Raises:
        ValidationError: a bad URL (or one refused: ``field`` is ``url``), event name or
            secret. NotFound: no such environment.
    """
    _check_url(url, allow_private=allow_private)
    wanted = _check_events(events)
    if environment is not None:
        validate_lookup(environment=environment)
        uow.environments.get(environment)
    validate_text(description, "description", multiline=True)
    chosen = secret if secret is not None else secrets.token_urlsafe(32)
    _check_secret(chosen)
    webhook = Webhook(
        id=f"wh_{secrets.token_urlsafe(12)}",
        url=url,
        events=wanted,
        environment=environment,
        description=description,
        created_at=uow.now,
        created_by=change.actor,
    )
    stored = uow.webhooks.add(webhook, secret=chosen)
    record_audit(
        uow,
        AuditAction.WEBHOOK_CREATED,
        subject=f"webhook:{stored.id}",
        environment=environment,
        states=(None, {"url": url, "events": list(wanted)}),
        change=change,
    )
    return CreatedWebhook(webhook=stored, secret=chosen)


def list_webhooks(uow: UnitOfWork, *, include_removed: bool = False) -> list[Webhook]:
    """Return the webhooks, oldest first."""
    return uow.webhooks.list(include_removed=include_removed)


def get_webhook(uow: UnitOfWork, webhook_id: str) -> Webhook:
    """Return one webhook (a removed one too). Raises ``NotFound``."""
    _check_id(webhook_id)
    found = uow.webhooks.find(webhook_id)
    if found is None:
        raise _not_found(webhook_id)
    return found


def remove_webhook(uow: UnitOfWork, webhook_id: str, *, change: Change) -> Webhook:
    """Remove a webhook: nothing more is sent to it (pending deliveries fail); its log stays.

    Raises:
        NotFound: no such webhook, or it was removed already.
    """
    found = get_webhook(uow, webhook_id)
    if found.removed_at is not None:
        raise _not_found(webhook_id)
    removed = uow.webhooks.remove(webhook_id, at=uow.now)
    record_audit(
        uow,
        AuditAction.WEBHOOK_REMOVED,
        subject=f"webhook:{webhook_id}",
        environment=found.environment,
        states=({"url": found.url, "events": list(found.events)}, None),
        change=change,
    )
    return removed


def webhook_deliveries(
    uow: UnitOfWork, webhook_id: str, *, limit: int = 100
) -> list[WebhookDelivery]:
    """The webhook's deliveries, newest first, each with every attempt (the delivery log).

    Raises:
        NotFound: no such webhook. ValidationError: ``limit`` outside 1..1000.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= _MAX_DELIVERIES:
        raise ValidationError(
            f"limit must be an integer from 1 to {_MAX_DELIVERIES}", details={"field": "limit"}
        )
    get_webhook(uow, webhook_id)
    return uow.webhooks.deliveries(webhook_id, limit=limit)


def _check_url(url: object, *, allow_private: bool) -> None:
    if not isinstance(url, str) or not url or len(url) > _MAX_URL:
        raise ValidationError(
            f"url must be text of 1 to {_MAX_URL} characters", details={"field": "url"}
        )
    validate_text(url, "url")
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as error:
        raise ValidationError(f"url is not a URL: {error}", details={"field": "url"}) from error
    if parts.scheme not in ("http", "https") or not host:
        raise ValidationError(
            f"url must be an http:// or https:// URL with a host, got {url!r}",
            details={"field": "url"},
        )
    problem = url_problem(url, allow_private=allow_private)
    if problem is not None:
        raise ValidationError(f"url {url!r} is refused: {problem}", details={"field": "url"})


def _check_events(events: Sequence[str]) -> tuple[str, ...]:
    if isinstance(events, str) or len(events) > _MAX_EVENTS:
        raise ValidationError(
            f"events must be a list of at most {_MAX_EVENTS} event types",
            details={"field": "events"},
        )
    for event in events:
        if not isinstance(event, str) or not _EVENT.fullmatch(event):
            raise ValidationError(
                f"events: {event!r} is not an event type such as rollback.started or rollback.*",
                details={"field": "events"},
            )
    return tuple(dict.fromkeys(events))


def _check_secret(secret: object) -> None:
    if (
        not isinstance(secret, str)
        or not _MIN_SECRET <= len(secret) <= _MAX_SECRET
        or not secret.isprintable()
        or not secret.isascii()
    ):
        raise ValidationError(
            f"secret must be {_MIN_SECRET} to {_MAX_SECRET} printable ASCII characters",
            details={"field": "secret"},
        )


def _check_id(webhook_id: object) -> None:
    if not isinstance(webhook_id, str) or not _PUBLIC_ID.fullmatch(webhook_id):
        raise NotFound(f"webhook {webhook_id!r} does not exist", details={"webhook": webhook_id})


def _not_found(webhook_id: str) -> NotFound:
    return NotFound(f"webhook {webhook_id!r} does not exist", details={"webhook": webhook_id})
