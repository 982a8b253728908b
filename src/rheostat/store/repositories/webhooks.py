"""Webhooks, their outbox (``webhook_deliveries``) and the delivery log (``webhook_attempts``).

``claim`` is how a dispatcher takes due deliveries: on PostgreSQL ``FOR UPDATE SKIP LOCKED``
(two dispatchers never take the same row), then a lease (``locked_until``) written in the same
transaction, so once it commits no other dispatcher sends that delivery until the lease ends.
SQLite serialises writers, which gives the same guarantee.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from rheostat.errors import NotFound
from rheostat.store.operations_records import (
    ClaimedDelivery,
    DeliveryAttempt,
    DeliveryStatus,
    OutboxEvent,
    Webhook,
    WebhookDelivery,
)
from rheostat.store.operations_tables import WebhookAttemptRow, WebhookDeliveryRow, WebhookRow

__all__ = ["DeliveryOutcome", "WebhookRepository"]


class DeliveryOutcome:
    """What became of one attempt: the log entry, and the delivery's next state."""

    __slots__ = ("attempt", "last_error", "next_attempt_at", "status")

    def __init__(
        self,
        attempt: DeliveryAttempt,
        *,
        status: DeliveryStatus,
        next_attempt_at: datetime,
        last_error: str | None,
    ) -> None:
        self.attempt = attempt
        self.status = status
        self.next_attempt_at = next_attempt_at
        self.last_error = last_error


class WebhookRepository:
    """Reads and writes ``webhooks``, ``webhook_deliveries`` and ``webhook_attempts``."""

    def __init__(self, session: Session) -> None:
        self._session = session

    # Webhooks ---------------------------------------------------------------------------------

    def add(self, webhook: Webhook, *, secret: str) -> Webhook:
        """Insert a webhook with its signing secret."""
        row = WebhookRow(
            public_id=webhook.id,
            url=webhook.url,
            secret=secret,
            events=list(webhook.events),
            environment=webhook.environment,
            description=webhook.description,
            created_at=webhook.created_at,
            created_by=webhook.created_by,
            removed_at=None,
        )
        self._session.add(row)
        self._session.flush()
        return _webhook(row)

    def find(self, public_id: str) -> Webhook | None:
        """Return the webhook (removed ones too), or ``None``."""
        row = self._row(public_id)
        return None if row is None else _webhook(row)

    def list(self, *, include_removed: bool = False) -> builtins.list[Webhook]:
        """Return webhooks, oldest first."""
        statement = select(WebhookRow).order_by(WebhookRow.id)
        if not include_removed:
            statement = statement.where(WebhookRow.removed_at.is_(None))
        return [_webhook(row) for row in self._session.scalars(statement)]

    def remove(self, public_id: str, *, at: datetime) -> Webhook:
        """Mark the webhook removed; its pending deliveries fail (nothing more is sent)."""
        row = self._required(public_id)
        if row.removed_at is None:
            row.removed_at = at
            pending = self._session.scalars(
                select(WebhookDeliveryRow).where(
                    WebhookDeliveryRow.webhook_id == row.id,
                    WebhookDeliveryRow.status == DeliveryStatus.PENDING.value,
                )
            )
            for delivery in pending:
                delivery.status = DeliveryStatus.FAILED.value
                delivery.last_error = "the webhook was removed"
            self._session.flush()
        return _webhook(row)

    # The outbox -------------------------------------------------------------------------------

    def enqueue(self, event: OutboxEvent) -> int:
        """Write one pending delivery of ``event`` per active webhook that wants it."""
        rows = [
            row
            for row in self._session.scalars(
                select(WebhookRow).where(WebhookRow.removed_at.is_(None))
            )
            if _webhook(row).wants(event)
        ]
        payload = event.payload()
        for row in rows:
            self._session.add(
                WebhookDeliveryRow(
                    webhook_id=row.id,
                    event_id=event.id,
                    event_type=event.type,
                    payload=payload,
                    status=DeliveryStatus.PENDING.value,
                    attempts=0,
                    next_attempt_at=event.at,
                    locked_until=None,
                    created_at=event.at,
                    delivered_at=None,
                    last_error=None,
                )
            )
        self._session.flush()
        return len(rows)

    def claim(
        self, now: datetime, *, lease: timedelta, limit: int
    ) -> builtins.list[ClaimedDelivery]:
        """Take up to ``limit`` due deliveries and hold them until ``now + lease``."""
        statement = (
            select(WebhookDeliveryRow, WebhookRow)
            .join(WebhookRow, WebhookRow.id == WebhookDeliveryRow.webhook_id)
            .where(
                WebhookDeliveryRow.status == DeliveryStatus.PENDING.value,
                WebhookDeliveryRow.next_attempt_at <= now,
                or_(
                    WebhookDeliveryRow.locked_until.is_(None),
                    WebhookDeliveryRow.locked_until <= now,
                ),
                WebhookRow.removed_at.is_(None),
            )
            .order_by(WebhookDeliveryRow.next_attempt_at, WebhookDeliveryRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=WebhookDeliveryRow)
        )
        claimed = []
        for delivery, webhook in self._session.execute(statement):
            delivery.locked_until = now + lease
            claimed.append(
                ClaimedDelivery(
                    id=delivery.id,
                    url=webhook.url,
                    secret=webhook.secret,
                    payload=dict(delivery.payload),
                    event_id=delivery.event_id,
                    event_type=delivery.event_type,
                    attempts=delivery.attempts,
                )
            )
        self._session.flush()
        return claimed

    def record(self, delivery_id: int, outcome: DeliveryOutcome) -> None:
        """Log an attempt and move the delivery on (delivered, retried later, or failed)."""
        row = self._session.get_one(WebhookDeliveryRow, delivery_id)
        attempt = outcome.attempt
        self._session.add(
            WebhookAttemptRow(
                delivery_id=delivery_id,
                attempt=attempt.attempt,
                at=attempt.at,
                status_code=attempt.status_code,
                error=attempt.error,
                duration_ms=attempt.duration_ms,
            )
        )
        row.attempts = attempt.attempt
        row.status = outcome.status.value
        row.next_attempt_at = outcome.next_attempt_at
        row.locked_until = None
        row.last_error = outcome.last_error
        if outcome.status is DeliveryStatus.DELIVERED:
            row.delivered_at = attempt.at
        self._session.flush()

    def deliveries(self, public_id: str, *, limit: int) -> builtins.list[WebhookDelivery]:
        """The webhook's deliveries, newest first, each with its attempts. Raises ``NotFound``."""
        webhook = self._required(public_id)
        rows = builtins.list(
            self._session.scalars(
                select(WebhookDeliveryRow)
                .where(WebhookDeliveryRow.webhook_id == webhook.id)
                .order_by(WebhookDeliveryRow.id.desc())
                .limit(limit)
            )
        )
        logs = self._attempts(row.id for row in rows)
        return [_delivery(row, public_id, logs.get(row.id, ())) for row in rows]

    def _attempts(self, ids: Iterable[int]) -> dict[int, tuple[DeliveryAttempt, ...]]:
        wanted = builtins.list(ids)
        if not wanted:
            return {}
        found: dict[int, builtins.list[DeliveryAttempt]] = {}
        rows = self._session.scalars(
            select(WebhookAttemptRow)
            .where(WebhookAttemptRow.delivery_id.in_(wanted))
            .order_by(WebhookAttemptRow.id)
        )
        for row in rows:
            found.setdefault(row.delivery_id, []).append(
                DeliveryAttempt(
                    attempt=row.attempt,
                    at=row.at,
                    status_code=row.status_code,
                    error=row.error,
                    duration_ms=row.duration_ms,
                )
            )
        return {key: tuple(value) for key, value in found.items()}

    def _row(self, public_id: str) -> WebhookRow | None:
        return self._session.scalar(select(WebhookRow).where(WebhookRow.public_id == public_id))

    def _required(self, public_id: str) -> WebhookRow:
        row = self._row(public_id)
        if row is None:
            raise NotFound(f"webhook {public_id!r} does not exist", details={"webhook": public_id})
        return row


def _webhook(row: WebhookRow) -> Webhook:
    return Webhook(
        id=row.public_id,
        url=row.url,
        events=tuple(row.events),
        environment=row.environment,
        description=row.description,
        created_at=row.created_at,
        created_by=row.created_by,
        removed_at=row.removed_at,
    )


def _delivery(
    row: WebhookDeliveryRow, webhook: str, log: tuple[DeliveryAttempt, ...]
) -> WebhookDelivery:
    return WebhookDelivery(
        id=row.id,
        webhook=webhook,
        event_id=row.event_id,
        event_type=row.event_type,
        payload=dict(row.payload),
        status=DeliveryStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        created_at=row.created_at,
        delivered_at=row.delivered_at,
        last_error=row.last_error,
        log=log,
    )
