"""Rollback, webhook and alert schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from rheostat.api.schemas.common import MAX_VERSION, ChangeRequest, RequestModel
from rheostat.service import (
    AlertRecord,
    AlertRulesRecord,
    RollbackMode,
    RollbackRecord,
    Webhook,
    WebhookDelivery,
)

__all__ = [
    "AlertPublic",
    "AlertRulesPublic",
    "AlertRulesUpdate",
    "DeliveryAttemptPublic",
    "RollbackCreate",
    "RollbackPublic",
    "WebhookCreate",
    "WebhookCreated",
    "WebhookDeliveryPublic",
    "WebhookPublic",
]


class RollbackCreate(ChangeRequest):
    """Roll a flag back: ``immediate`` (off for everyone), ``gradual`` (``steps`` of the current
    exposure, ``bake_seconds`` apart), ``targeted`` (``users``, ``groups``, ``orgs`` get the off
    value) or ``version`` (back to ``version``)."""

    mode: RollbackMode
    users: list[str] = Field(default_factory=list, max_length=10_000)
    groups: list[str] = Field(default_factory=list, max_length=10_000)
    orgs: list[str] = Field(default_factory=list, max_length=10_000)
    org_attribute: str = Field(default="org_id", min_length=1, max_length=128)
    version: int | None = Field(default=None, ge=1, le=MAX_VERSION, strict=True)
    steps: list[float] = Field(
        default_factory=lambda: [75.0, 50.0, 25.0, 0.0],
        min_length=1,
        max_length=20,
        description="gradual: shares (percent) of the current exposure, decreasing, ending at 0",
    )
    bake_seconds: float = Field(default=300.0, ge=0, le=30 * 86400, strict=False)


class RollbackPublic(BaseModel):
    """One rollback of a flag: who, when, why, how, from what to what."""

    id: int
    environment: str
    flag: str
    mode: str
    status: str = Field(description="running (gradual, steps left), completed or cancelled")
    actor: str
    reason: str | None
    started_at: datetime
    finished_at: datetime | None
    next_step_at: datetime | None
    flag_version: int
    from_: dict[str, Any] = Field(alias="from", serialization_alias="from")
    to: dict[str, Any]
    steps_left: list[float]
    plans_stopped: list[str]
    details: dict[str, Any]

    model_config = ConfigDict(populate_by_name=True)

    @classmethod
    def from_record(cls, record: RollbackRecord) -> RollbackPublic:
        """Convert the service's value."""
        details = dict(record.details)
        return cls.model_validate(
            {
                "id": record.id,
                "environment": record.environment,
                "flag": record.flag,
                "mode": record.mode.value,
                "status": record.status.value,
                "actor": record.actor,
                "reason": record.reason,
                "started_at": record.started_at,
                "finished_at": record.finished_at,
                "next_step_at": record.next_step_at,
                "flag_version": record.flag_version,
                "from": dict(details.get("from", {})),
                "to": dict(details.get("to", {})),
                "steps_left": [float(step) for step in details.get("steps", [])],
                "plans_stopped": list(details.get("plans_stopped", [])),
                "details": details,
            }
        )


class WebhookCreate(RequestModel):
    """A webhook: where to POST events, which ones, and (optionally) its secret."""

    url: str = Field(min_length=1, max_length=2000, examples=["https://hooks.example.com/x"])
    events: list[str] = Field(
        default_factory=list,
        max_length=50,
        description="event types or families (rollback.*); empty: every event",
    )
    environment: str | None = Field(default=None, min_length=1, max_length=63)
    description: str = Field(default="", max_length=2000)
    secret: str | None = Field(
        default=None, min_length=16, max_length=200, description="generated when omitted"
    )
    reason: str | None = Field(default=None, max_length=2000)


class WebhookPublic(BaseModel):
    """A stored webhook (never its secret)."""

    id: str
    url: str
    events: list[str]
    environment: str | None
    description: str
    created_at: datetime
    created_by: str
    removed_at: datetime | None

    @classmethod
    def from_record(cls, webhook: Webhook) -> WebhookPublic:
        """Convert the service's value."""
        return cls(
            id=webhook.id,
            url=webhook.url,
            events=list(webhook.events),
            environment=webhook.environment,
            description=webhook.description,
            created_at=webhook.created_at,
            created_by=webhook.created_by,
            removed_at=webhook.removed_at,
        )


class WebhookCreated(WebhookPublic):
    """A new webhook with its signing secret: shown this once."""

    secret: str


class DeliveryAttemptPublic(BaseModel):
    """One attempt: the receiver's HTTP status, or the error."""

    attempt: int
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class WebhookDeliveryPublic(BaseModel):
    """One event for one webhook, with every attempt (the delivery log)."""

    id: int
    event_id: str
    event_type: str
    status: str = Field(description="pending, delivered or failed")
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    delivered_at: datetime | None
    last_error: str | None
    payload: dict[str, Any]
    log: list[DeliveryAttemptPublic]

    @classmethod
    def from_record(cls, delivery: WebhookDelivery) -> WebhookDeliveryPublic:
        """Convert the service's value."""
        return cls(
            id=delivery.id,
            event_id=delivery.event_id,
            event_type=delivery.event_type,
            status=delivery.status.value,
            attempts=delivery.attempts,
            next_attempt_at=delivery.next_attempt_at,
            created_at=delivery.created_at,
            delivered_at=delivery.delivered_at,
            last_error=delivery.last_error,
            payload=dict(delivery.payload),
            log=[
                DeliveryAttemptPublic(
                    attempt=a.attempt,
                    at=a.at,
                    status_code=a.status_code,
                    error=a.error,
                    duration_ms=a.duration_ms,
                )
                for a in delivery.log
            ],
        )


class AlertPublic(BaseModel):
    """A firing or resolved alert."""

    id: int
    environment: str
    kind: str = Field(description="rule:<name>, or a plan's: plan.paused, plan.rollback, ...")
    subject: str
    severity: str = Field(description="warning or critical")
    status: str = Field(description="firing or resolved")
    message: str
    evidence: dict[str, Any]
    started_at: datetime
    updated_at: datetime
    resolved_at: datetime | None

    @classmethod
    def from_record(cls, alert: AlertRecord) -> AlertPublic:
        """Convert the service's value."""
        return cls(
            id=alert.id,
            environment=alert.environment,
            kind=alert.kind,
            subject=alert.subject,
            severity=alert.severity.value,
            status=alert.status.value,
            message=alert.message,
            evidence=dict(alert.evidence),
            started_at=alert.started_at,
            updated_at=alert.updated_at,
            resolved_at=alert.resolved_at,
        )


class AlertRulesUpdate(RequestModel):
    """Replace an environment's alert rules (docs/rollback.md, "Alerts")."""

    document: dict[str, Any] = Field(
        description='{"rules": [{"name", "flag", "metric", "warning": {"above": x}, ...}]}'
    )
    reason: str | None = Field(default=None, max_length=2000)


class AlertRulesPublic(BaseModel):
    """An environment's alert rules as stored (canonical)."""

    environment: str
    document: dict[str, Any]
    version: int
    updated_at: datetime
    updated_by: str

    @classmethod
    def from_record(cls, rules: AlertRulesRecord) -> AlertRulesPublic:
        """Convert the service's value."""
        return cls(
            environment=rules.environment,
            document=dict(rules.document),
            version=rules.version,
            updated_at=rules.updated_at,
            updated_by=rules.updated_by,
        )
