"""Health: is the database reachable and migrated, which kill switches are engaged, which
release plans are running, which alerts are firing and each table migration's parity."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from rheostat.errors import RheostatError
from rheostat.redaction import redact_secrets
from rheostat.service.alerts import firing_alerts
from rheostat.service.migrations import latest_parity_runs, parity_run_data
from rheostat.store import SqlStore
from rheostat.store.operations_records import AlertRecord
from rheostat.store.schema import head_revision
from rheostat.store.unit_of_work import UnitOfWork

__all__ = ["Health", "HealthStatus", "check_health"]


class HealthStatus(StrEnum):
    """Overall health."""

    HEALTHY = "healthy"
    DEGRADED = "degraded"
    """The database answers but its schema is behind the code: serve, and migrate soon."""
    UNHEALTHY = "unhealthy"
    """The database does not answer, or holds no rheostat schema: take this replica out of
    the load balancer (``GET /health`` answers 503)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Health:
    """What ``GET /health`` reports.

    Attributes:
        database: ``connected``, ``outdated`` (schema behind the code), ``missing`` (no schema
            at all: run ``rheostat migrate-db``) or ``unreachable``.
        schema_revision: the database's Alembic revision, ``None`` if unknown.
        kill_switches: environment -> flag -> engaged (``True`` = the flag is turned off).
        running_plans: the plans a controller is moving (``environment``, ``plan``, ``flag``,
            ``state``, ``percent``).
        firing_alerts: every alert still firing (``id``, ``environment``, ``kind``,
            ``subject``, ``severity``, ``message``, ``since``).
        running_rollbacks: gradual rollbacks still stepping down.
        migrations: each table migration's newest parity run (``environment``,
            ``migration``, ``level``, ``action``, ``row_delta``, ``worst_group_delta``,
            ``synced``, ``critical_groups``, ``measured_at``...).
        error: why the database check failed, when it did.
    """

    status: HealthStatus
    database: str
    schema_revision: str | None = None
    kill_switches: Mapping[str, Mapping[str, bool]] = field(default_factory=dict)
    running_plans: tuple[Mapping[str, Any], ...] = ()
    firing_alerts: tuple[Mapping[str, Any], ...] = ()
    running_rollbacks: int = 0
    migrations: tuple[Mapping[str, Any], ...] = ()
    error: str | None = None

    @property
    def kill_switches_engaged(self) -> int:
        """How many flags, across environments, are turned off."""
        return sum(sum(flags.values()) for flags in self.kill_switches.values())


def check_health(store: SqlStore) -> Health:
    """Check the database and collect kill switches. Never raises: failure is a value.

    Unlike the other services it takes the store, not a transaction: it is a probe that opens
    its own connection and read-only transaction, and reports their failure as a value.
    """
    try:
        revision = store.schema_revision()
        if revision is None:
            return Health(
                status=HealthStatus.UNHEALTHY,
                database="missing",
                error="the database has no rheostat schema; run `rheostat migrate-db`",
            )
        if revision != head_revision():
            return Health(
                status=HealthStatus.DEGRADED,
                database="outdated",
                schema_revision=revision,
                error=f"the schema is at revision {revision} but this rheostat expects"
                f" {head_revision()}; run `rheostat migrate-db`",
            )
        with store.reading() as uow:
            flags = uow.flags.list_all()
            plans = _running_plans(uow)
            alerts = tuple(_alert(alert) for alert in firing_alerts(uow))
            rollbacks = uow.rollbacks.count_running()
            migrations = tuple(
                parity_run_data(run, groups=False) for run in latest_parity_runs(uow)
            )
    except RheostatError as error:
        return Health(
            status=HealthStatus.UNHEALTHY, database="unreachable", error=_first_line(error)
        )
    kill_switches: dict[str, dict[str, bool]] = {}
    for flag in flags:
        kill_switches.setdefault(flag.environment, {})[flag.key] = not flag.enabled
    return Health(
        status=HealthStatus.HEALTHY,
        database="connected",
        schema_revision=revision,
        kill_switches=kill_switches,
        running_plans=plans,
        firing_alerts=alerts,
        running_rollbacks=rollbacks,
        migrations=migrations,
    )


def _running_plans(uow: UnitOfWork) -> tuple[Mapping[str, Any], ...]:
    running = []
    for environment, name in uow.plans.active():
        record = uow.plans.find(environment, name)
        if record is None:
            continue
        state = record.state
        running.append(
            {
                "environment": environment,
                "plan": name,
                "flag": state.plan.flag,
                "state": state.phase.value,
                "percent": state.exposure.percent,
            }
        )
    return tuple(running)


def _alert(alert: AlertRecord) -> Mapping[str, Any]:
    return {
        "id": alert.id,
        "environment": alert.environment,
        "kind": alert.kind,
        "subject": alert.subject,
        "severity": alert.severity.value,
        "message": alert.message,
        "since": alert.started_at.isoformat(),
    }


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return redact_secrets(lines[0]) if lines else type(error).__name__
