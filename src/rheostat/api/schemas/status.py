"""Read-model schemas: the rollout-status view and ``/health``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from rheostat.service import FlagSummary, Health

__all__ = ["FlagSummaryList", "FlagSummaryPublic", "HealthPublic"]


class FlagSummaryPublic(BaseModel):
    """One flag's state and rollout share, the seeds' ``make rollout-status`` row."""

    environment: str
    key: str
    description: str
    state: str = Field(description="enabled, disabled (kill switch), percentage, targeted, off")
    enabled: bool
    rollout_percent: float | None
    version: int
    updated_at: datetime

    @classmethod
    def from_record(cls, row: FlagSummary) -> FlagSummaryPublic:
        """Convert the service's value."""
        return cls(
            environment=row.environment,
            key=row.key,
            description=row.description,
            state=str(row.state),
            enabled=row.enabled,
            rollout_percent=row.rollout_percent,
            version=row.version,
            updated_at=row.updated_at,
        )


class FlagSummaryList(BaseModel):
    """Every flag with its state and rollout: ``{"flags": [...]}``."""

    flags: list[FlagSummaryPublic]


class HealthPublic(BaseModel):
    """What ``GET /health`` answers."""

    status: str = Field(description="healthy, degraded or unhealthy")
    database: str = Field(description="connected, outdated or unreachable")
    schema_revision: str | None
    kill_switches: dict[str, dict[str, bool]] = Field(
        description="environment -> flag -> engaged (true: the flag is turned off)"
    )
    kill_switches_engaged: int
    running_plans: list[dict[str, Any]] = Field(
        description="plans a controller is moving: environment, plan, flag, state, percent"
    )
    firing_alerts: list[dict[str, Any]] = Field(
        description="alerts still firing: id, environment, kind, subject, severity, message"
    )
    running_rollbacks: int = Field(description="gradual rollbacks still stepping down")
    migrations: list[dict[str, Any]] = Field(
        default_factory=list,
        description="each table migration's newest parity run: environment, migration, level,"
        " action, row_delta, worst_group_delta, synced, measured_at",
    )
    error: str | None

    @classmethod
    def from_record(cls, health: Health) -> HealthPublic:
        """Convert the service's value."""
        return cls(
            status=str(health.status),
            database=health.database,
            schema_revision=health.schema_revision,
            kill_switches={env: dict(flags) for env, flags in health.kill_switches.items()},
            kill_switches_engaged=health.kill_switches_engaged,
            running_plans=[dict(plan) for plan in health.running_plans],
            firing_alerts=[dict(alert) for alert in health.firing_alerts],
            running_rollbacks=health.running_rollbacks,
            migrations=[dict(run) for run in health.migrations],
            error=health.error,
        )
