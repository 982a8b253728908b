"""Which SDK processes run which flags: heartbeats in, the reach of a flag's change out.

A client reports the environment revision it serves (``record_heartbeat``) after applying a
change and periodically. Every flag write stamps the revision it lands in. A process has
applied a flag's latest change when the revision it reports is at least that stamp: that is
the proof a kill switch landed, process by process (``flag_reach``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from rheostat.errors import ValidationError
from rheostat.inputs import validate_lookup
from rheostat.service.flags import get_flag
from rheostat.store.repositories.sdk_processes import Heartbeat, SdkProcess
from rheostat.store.unit_of_work import UnitOfWork

__all__ = ["Heartbeat", "Reach", "SdkProcess", "flag_reach", "record_heartbeat"]

DEFAULT_LIVE_WITHIN = timedelta(seconds=90)
"""A process is live if heard of within this (three of the SDK's 30 s heartbeats)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Reach:
    """How far a flag's latest change has reached the live SDK processes.

    Attributes:
        revision: the environment revision of the flag's latest change (0 when it has not
            changed since reach was recorded: every process has it).
        environment_revision: the environment's current revision.
        live: processes heard of within the liveness window.
        applied: those whose reported revision includes the change.
        pending: the live processes that have not reported it yet.
        oldest_acknowledgement_s: among ``applied``, the age of the oldest heartbeat (how
            fresh the proof is); ``None`` when none applied.
    """

    environment: str
    flag: str
    revision: int
    environment_revision: int
    live: int
    applied: int
    pending: tuple[SdkProcess, ...]
    oldest_acknowledgement_s: float | None


def record_heartbeat(uow: UnitOfWork, environment: str, heartbeat: Heartbeat) -> int:
    """Record that a process serves ``heartbeat.revision``; return the current revision.

    Raises:
        NotFound: no such environment. ValidationError: a revision below zero.
    """
    validate_lookup(environment=environment)
    if heartbeat.revision < 0:
        raise ValidationError("revision must be >= 0", details={"path": "body.revision"})
    uow.sdk_processes.record(environment, heartbeat, at=uow.now)
    return uow.environments.revision_of(environment)


def flag_reach(
    uow: UnitOfWork, environment: str, key: str, *, live_within: timedelta = DEFAULT_LIVE_WITHIN
) -> Reach:
    """Return which live processes have applied the flag's latest change. Raises ``NotFound``."""
    get_flag(uow, environment, key)
    now: datetime = uow.now
    revision = uow.sdk_processes.flag_revision(environment, key) or 0
    live = uow.sdk_processes.seen_since(environment, now - live_within)
    applied = [process for process in live if process.revision >= revision]
    oldest = min((process.last_seen_at for process in applied), default=None)
    return Reach(
        environment=environment,
        flag=key,
        revision=revision,
        environment_revision=uow.environments.revision_of(environment),
        live=len(live),
        applied=len(applied),
        pending=tuple(process for process in live if process.revision < revision),
        oldest_acknowledgement_s=None if oldest is None else (now - oldest).total_seconds(),
    )
