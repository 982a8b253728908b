"""Rows to ``store.records`` values."""

from __future__ import annotations

from rheostat.store.records import (
    ApiKey,
    ApiKeyScope,
    AuditAction,
    AuditEvent,
    Environment,
    FlagRecord,
    FlagVersion,
    SegmentRecord,
)
from rheostat.store.tables import (
    ApiKeyRow,
    AuditEventRow,
    EnvironmentRow,
    FlagRow,
    FlagVersionRow,
    SegmentRow,
)

__all__ = [
    "to_api_key",
    "to_audit_event",
    "to_environment",
    "to_flag",
    "to_flag_version",
    "to_segment",
]


def to_environment(row: EnvironmentRow) -> Environment:
    """Map an ``environments`` row."""
    return Environment(
        key=row.key,
        name=row.name,
        description=row.description,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def to_flag(row: FlagRow, environment: str) -> FlagRecord:
    """Map a ``flags`` row of ``environment``."""
    return FlagRecord(
        environment=environment,
        key=row.key,
        definition=dict(row.definition),
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def to_flag_version(row: FlagVersionRow, environment: str, key: str) -> FlagVersion:
    """Map a ``flag_versions`` row of flag ``key`` in ``environment``."""
    return FlagVersion(
        environment=environment,
        key=key,
        version=row.version,
        definition=dict(row.definition),
        deleted=row.deleted,
        action=AuditAction(row.action),
        actor=row.actor,
        reason=row.reason,
        created_at=row.created_at,
    )


def to_segment(row: SegmentRow, environment: str) -> SegmentRecord:
    """Map a ``segments`` row of ``environment``."""
    return SegmentRecord(
        environment=environment,
        key=row.key,
        definition=dict(row.definition),
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def to_api_key(row: ApiKeyRow, environment: str | None) -> ApiKey:
    """Map an ``api_keys`` row; ``environment`` is the key of its environment, if any."""
    return ApiKey(
        id=row.id,
        name=row.name,
        scope=ApiKeyScope(row.scope),
        environment=environment,
        prefix=row.prefix,
        created_at=row.created_at,
        created_by=row.created_by,
        revoked_at=row.revoked_at,
    )


def to_audit_event(row: AuditEventRow) -> AuditEvent:
    """Map an ``audit_events`` row."""
    return AuditEvent(
        id=row.id,
        at=row.at,
        actor=row.actor,
        action=AuditAction(row.action),
        environment=row.environment,
        subject=row.subject,
        before=row.before,
        after=row.after,
        reason=row.reason,
    )
