"""The operations side's tables: flag rollbacks, webhooks with their outbox, and alerts.

Environment keys are stored as text (as in ``audit_events``), so a rollback's history, a
delivery log and an alert outlive the environment they were about.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from rheostat.store.base import KEY_LENGTH, ROW_ID, Base, Document

__all__ = [
    "AlertRow",
    "AlertRulesRow",
    "RollbackRow",
    "WebhookAttemptRow",
    "WebhookDeliveryRow",
    "WebhookRow",
]


class RollbackRow(Base):
    """``rollbacks``: one rollback of a flag (immediate, gradual, targeted, to a version).

    A gradual one is ``running`` until its last step; ``next_step_at`` says when the
    controller applies the next one, so it survives restarts.
    """

    __tablename__ = "rollbacks"
    __table_args__ = (
        Index("ix_rollbacks_environment_flag", "environment", "flag"),
        Index("ix_rollbacks_status_next_step_at", "status", "next_step_at"),
    )

    id: Mapped[int] = mapped_column(ROW_ID, primary_key=True)
    environment: Mapped[str] = mapped_column(String(KEY_LENGTH))
    flag: Mapped[str] = mapped_column(String(KEY_LENGTH))
    mode: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    next_step_at: Mapped[datetime | None]
    flag_version: Mapped[int] = mapped_column(Integer)
    """The flag's version after the rollback's last change: a gradual step finding another
    version stops (someone changed the flag since)."""
    details: Mapped[dict[str, Any]]
    """``from``, ``to``, ``steps`` (the percentages still to apply), ``applied`` (each change
    with its version and time), ``bake_seconds``, ``plans_stopped``, ``targets``."""


class WebhookRow(Base):
    """``webhooks``: where events are POSTed, signed with the webhook's secret."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(String(200))
    events: Mapped[list[str]] = mapped_column(Document)
    environment: Mapped[str | None] = mapped_column(String(KEY_LENGTH))
    description: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(200))
    removed_at: Mapped[datetime | None]


class WebhookDeliveryRow(Base):
    """``webhook_deliveries``: the outbox. Written in the transaction of the change it tells
    about; sent after commit by a dispatcher; retried with backoff until delivered or failed."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_status_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(ROW_ID, primary_key=True)
    webhook_id: Mapped[int] = mapped_column(
        ForeignKey("webhooks.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class WebhookAttemptRow(Base):
    """``webhook_attempts``: the delivery log, one row per attempt (append only)."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(ROW_ID, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ROW_ID, ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer)


class AlertRow(Base):
    """``alerts``: firing and resolved alerts (alert rules over metrics, and plans' alerts)."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_status_environment", "status", "environment"),)

    id: Mapped[int] = mapped_column(ROW_ID, primary_key=True)
    environment: Mapped[str] = mapped_column(String(KEY_LENGTH))
    kind: Mapped[str] = mapped_column(String(KEY_LENGTH))
    subject: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]]
    started_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]


class AlertRulesRow(Base):
    """``alert_rules``: one environment's alert rule document (validated whole)."""

    __tablename__ = "alert_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    environment: Mapped[str] = mapped_column(String(KEY_LENGTH), unique=True)
    document: Mapped[dict[str, Any]]
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(200))
