"""Alerts (firing and resolved) and each environment's alert rule document."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rheostat.errors import NotFound
from rheostat.store.operations_records import (
    AlertRecord,
    AlertRulesRecord,
    AlertSeverity,
    AlertStatus,
)
from rheostat.store.operations_tables import AlertRow, AlertRulesRow

__all__ = ["AlertRepository"]


class AlertRepository:
    """Reads and writes ``alerts`` and ``alert_rules`` in one session."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def firing(self, environment: str, kind: str, subject: str) -> AlertRecord | None:
        """The firing alert of this kind about this subject, or ``None``."""
        row = self._session.scalar(
            select(AlertRow)
            .where(
                AlertRow.environment == environment,
                AlertRow.kind == kind,
                AlertRow.subject == subject,
                AlertRow.status == AlertStatus.FIRING.value,
            )
            .order_by(AlertRow.id.desc())
            .limit(1)
        )
        return None if row is None else _record(row)

    def add(self, alert: AlertRecord) -> AlertRecord:
        """Insert ``alert`` (its ``id`` is ignored)."""
        row = AlertRow(
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
        self._session.add(row)
        self._session.flush()
        return _record(row)

    def update(self, alert_id: int, *, at: datetime, **changes: Any) -> AlertRecord:
        """Change the named fields (``severity``, ``status``, ``message``, ``evidence``,
        ``resolved_at``); ``updated_at`` becomes ``at``."""
        row = self._required(alert_id)
        for name, value in changes.items():
            stored = value.value if isinstance(value, AlertSeverity | AlertStatus) else value
            setattr(row, name, dict(stored) if isinstance(stored, Mapping) else stored)
        row.updated_at = at
        self._session.flush()
        return _record(row)

    def get(self, alert_id: int) -> AlertRecord:
        """Return the alert. Raises ``NotFound``."""
        return _record(self._required(alert_id))

    def list(
        self, *, environment: str | None, status: AlertStatus | None, limit: int
    ) -> builtins.list[AlertRecord]:
        """Alerts, newest first, optionally of one environment or status."""
        statement = select(AlertRow).order_by(AlertRow.id.desc()).limit(limit)
        if environment is not None:
            statement = statement.where(AlertRow.environment == environment)
        if status is not None:
            statement = statement.where(AlertRow.status == status.value)
        return [_record(row) for row in self._session.scalars(statement)]

    def rules(self, environment: str) -> AlertRulesRecord | None:
        """The environment's alert rules, or ``None``."""
        row = self._rules_row(environment)
        return None if row is None else _rules(row)

    def all_rules(self) -> builtins.list[AlertRulesRecord]:
        """Every environment's alert rules, by environment."""
        rows = self._session.scalars(select(AlertRulesRow).order_by(AlertRulesRow.environment))
        return [_rules(row) for row in rows]

    def put_rules(
        self, environment: str, document: Mapping[str, Any], *, at: datetime, by: str
    ) -> AlertRulesRecord:
        """Store the environment's rule document (its version goes up by one)."""
        row = self._rules_row(environment, lock=True)
        if row is None:
            row = AlertRulesRow(environment=environment, version=0)
            self._session.add(row)
        row.document = dict(document)
        row.version = row.version + 1
        row.updated_at = at
        row.updated_by = by
        self._session.flush()
        return _rules(row)

    def _rules_row(self, environment: str, *, lock: bool = False) -> AlertRulesRow | None:
        statement = select(AlertRulesRow).where(AlertRulesRow.environment == environment)
        if lock:
            statement = statement.with_for_update()
        return self._session.scalar(statement)

    def _required(self, alert_id: int) -> AlertRow:
        row = self._session.get(AlertRow, alert_id)
        if row is None:
            raise NotFound(f"alert {alert_id} does not exist", details={"alert": alert_id})
        return row


def _record(row: AlertRow) -> AlertRecord:
    return AlertRecord(
        id=row.id,
        environment=row.environment,
        kind=row.kind,
        subject=row.subject,
        severity=AlertSeverity(row.severity),
        status=AlertStatus(row.status),
        message=row.message,
        evidence=dict(row.evidence),
        started_at=row.started_at,
        updated_at=row.updated_at,
        resolved_at=row.resolved_at,
    )


def _rules(row: AlertRulesRow) -> AlertRulesRecord:
    return AlertRulesRecord(
        environment=row.environment,
        document=dict(row.document),
        version=row.version,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )
