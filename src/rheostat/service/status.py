"""Read models: the seeds' rollout-status view (flag summaries) and per-flag stats."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rheostat.flags.summary import FlagState, flag_state, rollout_percent, targeted_counts
from rheostat.inputs import validate_lookup
from rheostat.service.flag_changes import flag_not_found, live_flag
from rheostat.store.records import FlagRecord
from rheostat.store.unit_of_work import UnitOfWork

__all__ = [
    "FlagStats",
    "FlagSummary",
    "flag_stats",
    "flag_summaries",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class FlagSummary:
    """One row of the rollout-status view (``GET /api/v1/config/flags``).

    Attributes:
        rollout_percent: the "on" variant's weight in a bool flag's catch-all split (the rule
            ``set_rollout_percentage`` sets); ``None`` when the flag has no such split (not an
            on/off flag, or one that serves a fixed variant to everyone: see ``state``).
    """

    environment: str
    key: str
    description: str
    state: FlagState
    enabled: bool
    rollout_percent: float | None
    version: int
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class FlagStats:
    """What ``get_flag_stats`` reports for one flag."""

    environment: str
    key: str
    state: FlagState
    enabled: bool
    rollout_percent: float | None
    version: int
    versions: int
    targeted_users: int
    targeted_groups: int
    rules: int
    created_at: datetime
    updated_at: datetime
    last_changed_by: str


def flag_summaries(uow: UnitOfWork, environment: str | None = None) -> list[FlagSummary]:
    """Return every flag with its state and rollout percentage, sorted by environment, key.

    Args:
        environment: only this environment; every environment when ``None``.

    Raises:
        NotFound: the environment does not exist.
    """
    if environment is not None:
        validate_lookup(environment=environment)
    if environment is None:
        flags = uow.flags.list_all()
    else:
        uow.environments.get(environment)
        flags = uow.flags.list(environment)
    return [_status_row(flag) for flag in flags]


def flag_stats(uow: UnitOfWork, environment: str, key: str) -> FlagStats:
    """Return state, rollout share, targeting counts and history size of a flag.

    Raises:
        NotFound: no such environment or flag.
    """
    validate_lookup(environment=environment, flag=key)
    flag = live_flag(uow, environment, key)
    history = uow.flags.history(environment, key)
    if not history:
        raise flag_not_found(environment, key)
    users, groups = targeted_counts(flag.definition)
    return FlagStats(
        environment=environment,
        key=key,
        state=flag_state(flag.definition),
        enabled=flag.enabled,
        rollout_percent=rollout_percent(flag.definition),
        version=flag.version,
        versions=len(history),
        targeted_users=users,
        targeted_groups=groups,
        rules=len(flag.definition.get("rules", [])),
        created_at=flag.created_at,
        updated_at=flag.updated_at,
        last_changed_by=history[0].actor,
    )


def _status_row(flag: FlagRecord) -> FlagSummary:
    return FlagSummary(
        environment=flag.environment,
        key=flag.key,
        description=flag.description,
        state=flag_state(flag.definition),
        enabled=flag.enabled,
        rollout_percent=rollout_percent(flag.definition),
        version=flag.version,
        updated_at=flag.updated_at,
    )
