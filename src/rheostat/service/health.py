"""Health: is the database reachable and migrated, and which kill switches are engaged."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from rheostat.errors import RheostatError
from rheostat.store import SqlStore
from rheostat.store.schema import head_revision

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
        error: why the database check failed, when it did.
    """

    status: HealthStatus
    database: str
    schema_revision: str | None = None
    kill_switches: Mapping[str, Mapping[str, bool]] = field(default_factory=dict)
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
    )


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
