"""What the store hands back about rollbacks, webhooks and alerts: immutable values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "AlertRecord",
    "AlertRulesRecord",
    "AlertSeverity",
    "AlertStatus",
    "ClaimedDelivery",
    "CreatedWebhook",
    "DeliveryAttempt",
    "DeliveryStatus",
    "OutboxEvent",
    "RollbackMode",
    "RollbackRecord",
    "RollbackStatus",
    "Webhook",
    "WebhookDelivery",
]


class RollbackMode(StrEnum):
    """How a flag is rolled back."""

    IMMEDIATE = "immediate"
    """Off for everyone at once (the kill switch), in one transaction."""
    GRADUAL = "gradual"
    """Down in steps (75, 50, 25, 0 % of the exposure), a bake apart."""
    TARGETED = "targeted"
    """Off for some users, groups or organisations; everyone else keeps what they had."""
    VERSION = "version"
    """Back to a stored flag version (a new version equal to it)."""


class RollbackStatus(StrEnum):
    """Where a rollback is."""

    RUNNING = "running"
    """A gradual rollback with steps still to apply."""
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    """Stopped before its last step (the flag was changed since, or rolled back again)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RollbackRecord:
    """One rollback of a flag: who, when, why, how, from what to what.

    Attributes:
        id: increasing with time.
        flag_version: the flag's version after the rollback's latest change.
        next_step_at: when the next gradual step is due (``None`` when none is).
        details: ``from`` and ``to`` (percent, enabled, version), ``steps`` still to apply,
            ``applied`` (each change: percent or action, version, at), ``bake_seconds``,
            ``plans_stopped``, ``targets`` (users, groups, orgs), ``restored_version``.
    """

    id: int
    environment: str
    flag: str
    mode: RollbackMode
    status: RollbackStatus
    actor: str
    reason: str | None
    started_at: datetime
    finished_at: datetime | None
    next_step_at: datetime | None
    flag_version: int
    details: Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxEvent:
    """Something that happened, told to webhooks and in-process hooks after commit.

    Attributes:
        id: unique; receivers deduplicate on it (delivery is at least once).
        type: ``rollback.started``, ``rollback.step``, ``rollback.completed``,
            ``rollback.cancelled``, ``plan.rolled_back``, ``plan.completed``, ``plan.paused``,
            ``plan.failed``, ``alert.firing``, ``alert.resolved``.
        data: the event's facts (JSON).
    """

    id: str
    type: str
    environment: str | None
    at: datetime
    data: Mapping[str, Any]

    def payload(self) -> dict[str, Any]:
        """The JSON body a webhook receives."""
        return {
            "id": self.id,
            "type": self.type,
            "environment": self.environment,
            "at": self.at.isoformat(),
            "data": dict(self.data),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Webhook:
    """A stored webhook (its secret is never shown again after creation).

    Attributes:
        id: public id (``wh_...``).
        events: the event types it receives (``rollback.*`` matches a family); empty: all.
        environment: only events of this environment; ``None``: every environment.
        removed_at: when it was removed (its delivery log is kept).
    """

    id: str
    url: str
    events: tuple[str, ...]
    environment: str | None
    description: str
    created_at: datetime
    created_by: str
    removed_at: datetime | None = None

    def wants(self, event: OutboxEvent) -> bool:
        """Whether ``event`` is for this webhook."""
        if self.environment is not None and event.environment != self.environment:
            return False
        if not self.events:
            return True
        return any(
            event.type == wanted or (wanted.endswith(".*") and event.type.startswith(wanted[:-1]))
            for wanted in self.events
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class CreatedWebhook:
    """A new webhook and its signing secret, shown this once."""

    webhook: Webhook
    secret: str = field(repr=False)


class DeliveryStatus(StrEnum):
    """Where one delivery of one event to one webhook is."""

    PENDING = "pending"
    """Not delivered yet; sent when ``next_attempt_at`` has come."""
    DELIVERED = "delivered"
    FAILED = "failed"
    """Every attempt failed; no more are made."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryAttempt:
    """One attempt of the delivery log: the HTTP status, or the error."""

    attempt: int
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookDelivery:
    """One event for one webhook, with every attempt made."""

    id: int
    webhook: str
    event_id: str
    event_type: str
    payload: Mapping[str, Any]
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    delivered_at: datetime | None
    last_error: str | None
    log: tuple[DeliveryAttempt, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimedDelivery:
    """A delivery a dispatcher holds (until its lease ends) and is about to send."""

    id: int
    url: str
    secret: str = field(repr=False)
    payload: Mapping[str, Any]
    event_id: str
    event_type: str
    attempts: int


class AlertSeverity(StrEnum):
    """How bad (seed 003's table: warning, critical)."""

    WARNING = "warning"
    CRITICAL = "critical"


class AlertStatus(StrEnum):
    """Whether an alert still holds."""

    FIRING = "firing"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertRecord:
    """A stored alert.

    Attributes:
        kind: ``rule:<name>`` for an alert rule, or the plan's alert kind (``plan.paused``,
            ``plan.rollback``, ``plan.stale``, ``gate.no_data``...).
        subject: what it is about (``flag:<key>``, ``plan:<name>``).
        evidence: the value, thresholds and window (rules), or the plan's facts.
    """

    id: int
    environment: str
    kind: str
    subject: str
    severity: AlertSeverity
    status: AlertStatus
    message: str
    evidence: Mapping[str, Any]
    started_at: datetime
    updated_at: datetime
    resolved_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertRulesRecord:
    """An environment's alert rule document as stored."""

    environment: str
    document: Mapping[str, Any]
    version: int
    updated_at: datetime
    updated_by: str
