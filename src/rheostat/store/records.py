"""What the store hands back: immutable values, free of SQLAlchemy.

Services return these to the API, the CLI and the dashboard; ``store.mappers`` builds them from
rows. Flag and segment definitions are plain JSON-ready mappings in the native document format
(see ARCHITECTURE.md), exactly as ``FlagSet.from_dict`` accepts them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from rheostat.experiments.model import Experiment, ExperimentStatus
from rheostat.rollout.state import PlanState

__all__ = [
    "ApiKey",
    "ApiKeyScope",
    "AuditAction",
    "AuditEvent",
    "BackfillCheckpoint",
    "BackfillRecord",
    "CreatedApiKey",
    "Environment",
    "ExperimentRecord",
    "FlagRecord",
    "FlagVersion",
    "PlanEvent",
    "PlanRecord",
    "SegmentRecord",
    "SegmentVersion",
    "StoredResults",
]


class ApiKeyScope(StrEnum):
    """What an API key may do."""

    SDK = "sdk"
    """Read the flags of one environment (SDK polling, streaming, metrics)."""
    ADMIN = "admin"
    """Everything: manage flags, segments, environments and keys."""


class AuditAction(StrEnum):
    """The verb of an audit event; stable strings, part of the public API."""

    ENVIRONMENT_CREATED = "environment.created"
    ENVIRONMENT_UPDATED = "environment.updated"
    ENVIRONMENT_DELETED = "environment.deleted"
    FLAG_CREATED = "flag.created"
    FLAG_UPDATED = "flag.updated"
    FLAG_DELETED = "flag.deleted"
    FLAG_ENABLED = "flag.enabled"
    FLAG_DISABLED = "flag.disabled"
    FLAG_KILLED = "flag.killed"
    FLAG_ROLLOUT_SET = "flag.rollout_set"
    FLAG_TARGETS_ADDED = "flag.targets_added"
    FLAG_TARGETS_REMOVED = "flag.targets_removed"
    FLAG_RESTORED = "flag.restored"
    FLAG_IMPORTED = "flag.imported"
    FLAG_SEGMENT_CHANGED = "flag.segment_changed"
    """A segment the flag tests (``in_segment``) changed: its behaviour did, its version not."""
    SEGMENT_CREATED = "segment.created"
    SEGMENT_UPDATED = "segment.updated"
    SEGMENT_DELETED = "segment.deleted"
    SEGMENT_RESTORED = "segment.restored"
    """Brought back to an old version, with a flag restored to a version that tested it."""
    API_KEY_CREATED = "api_key.created"
    API_KEY_REVOKED = "api_key.revoked"
    EXPERIMENT_CREATED = "experiment.created"
    EXPERIMENT_UPDATED = "experiment.updated"
    EXPERIMENT_STARTED = "experiment.started"
    EXPERIMENT_STOPPED = "experiment.stopped"
    PLAN_CREATED = "plan.created"
    BACKFILL_REGISTERED = "backfill.registered"
    """A backfill job was stored, or its document changed (``after`` holds it)."""
    BACKFILL_STARTED = "backfill.started"
    BACKFILL_PAUSED = "backfill.paused"
    BACKFILL_FINISHED = "backfill.finished"
    """A run ended: completed, stopped at a batch boundary, or failed (``after.status``)."""
    BACKFILL_VERIFIED = "backfill.verified"
    FLAG_ROLLED_BACK = "flag.rolled_back"
    """A rollback of the flag began (``after`` holds its mode, from and to)."""
    ROLLBACK_STEPPED = "rollback.stepped"
    """A gradual rollback applied its next step, finished or was cancelled."""
    WEBHOOK_CREATED = "webhook.created"
    WEBHOOK_REMOVED = "webhook.removed"
    ALERT_RULES_SET = "alert_rules.set"
    ALERT_RESOLVED = "alert.resolved"
    """An operator resolved an alert by hand."""
    PLAN_TRANSITION = "plan.transition"
    """A release plan moved (a stage started or completed, a pause, a rollback...): the
    event's type, message and evidence are in ``after``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Environment:
    """A deployment stage (``development``, ``staging``, ``production``) with its own flags.

    Attributes:
        key: stable identifier used in URLs and API keys.
        name: human label.
        description: free text.
        version: optimistic-concurrency counter; updates must name it.
    """

    key: str
    name: str
    description: str = ""
    version: int = 1
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class FlagRecord:
    """The current state of one flag in one environment.

    Attributes:
        environment: environment key.
        key: flag key.
        definition: the native flag definition (``description``, ``enabled``, ``variants``,
            ``default``, ``targets``, ``rules``...), as stored after validation.
        version: the flag version; every change makes a new one, and updates must name the
            version they read.
    """

    environment: str
    key: str
    definition: Mapping[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime

    @property
    def enabled(self) -> bool:
        """Whether the flag is on (``False`` means the kill switch is engaged)."""
        return bool(self.definition.get("enabled", True))

    @property
    def description(self) -> str:
        """The flag's description, ``""`` when it has none."""
        return str(self.definition.get("description", ""))


@dataclass(frozen=True, slots=True, kw_only=True)
class FlagVersion:
    """One immutable entry of a flag's history.

    Attributes:
        version: 1 for the first, then consecutive.
        definition: the full definition at that version (the last one for a deletion).
        deleted: this version deleted the flag.
        action: what made it (``flag.updated``, ``flag.restored``...).
        actor: who made it; reason: why, when given.
        segments: the versions of the segments it tested when it was written
            (``{"pilot-orgs": 3}``); ``None`` for versions older than segment history.
    """

    environment: str
    key: str
    version: int
    definition: Mapping[str, Any]
    deleted: bool = False
    action: AuditAction
    actor: str
    reason: str | None = None
    created_at: datetime
    segments: Mapping[str, int] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SegmentVersion:
    """One immutable entry of a segment's history (kept after the segment is deleted).

    Attributes:
        definition: the segment's definition at that version (the last one for a deletion).
        deleted: this version deleted the segment.
    """

    environment: str
    key: str
    version: int
    definition: Mapping[str, Any]
    deleted: bool = False
    action: AuditAction
    actor: str
    reason: str | None = None
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanRecord:
    """A stored release plan and how far it got.

    Attributes:
        state: the plan (``state.plan``) and its progress.
        version: optimistic-concurrency counter, raised by every tick that changed it.
    """

    environment: str
    name: str
    state: PlanState
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanEvent:
    """One entry of a plan's history: a transition, with its evidence and who caused it."""

    environment: str
    plan: str
    at: datetime
    type: str
    stage: int
    message: str
    evidence: Mapping[str, Any]
    actor: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SegmentRecord:
    """A named, reusable list of conditions in one environment.

    Attributes:
        definition: native segment definition (``{"conditions": [...], "description": ...}``).
        version: optimistic-concurrency counter; updates must name it.
    """

    environment: str
    key: str
    definition: Mapping[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiKey:
    """An API key as stored: never the token itself, only its hash and a recognisable prefix.

    Attributes:
        id: public identifier (used to revoke).
        name: human label.
        scope: ``sdk`` (read one environment's flags) or ``admin``.
        environment: the environment an ``sdk`` key reads; ``None`` for ``admin`` keys.
        prefix: the token's first characters (``rh_sdk_AbCd``), to recognise it in lists.
        revoked_at: when it was revoked; ``None`` while it works.
    """

    id: str
    name: str
    scope: ApiKeyScope
    environment: str | None
    prefix: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None = None

    @property
    def is_active(self) -> bool:
        """Whether the key still authenticates."""
        return self.revoked_at is None


@dataclass(frozen=True, slots=True, kw_only=True)
class CreatedApiKey:
    """A new key and its secret token; the token is shown this once and never stored."""

    api_key: ApiKey
    token: str = field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEvent:
    """Who changed what, when, why, with the state before and after.

    Attributes:
        id: increasing with time.
        environment: the environment concerned, ``None`` for global changes (API keys...).
        subject: what changed, ``flag:<key>``, ``segment:<key>``, ``environment:<key>``,
            ``api_key:<id>``.
        before, after: JSON states (``None`` for a creation or a deletion).
    """

    id: int
    at: datetime
    actor: str
    action: AuditAction
    environment: str | None
    subject: str
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ExperimentRecord:
    """An experiment of one environment as stored.

    Attributes:
        environment: environment key.
        experiment: the pure model (arms, metrics, coverage, status, times, ``version``).
        updated_at: when it last changed.
    """

    environment: str
    experiment: Experiment
    updated_at: datetime

    @property
    def key(self) -> str:
        """The experiment's key."""
        return self.experiment.key

    @property
    def status(self) -> ExperimentStatus:
        """Draft, running or stopped."""
        return self.experiment.status

    @property
    def version(self) -> int:
        """Optimistic-concurrency counter; changes may name it."""
        return self.experiment.version


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredResults:
    """One stored results computation of an experiment.

    Attributes:
        at: the moment the results describe (windows ended and units exposed by then).
        computed_at: when they were computed.
        document: the results as JSON (what ``experiment results --json`` prints).
    """

    id: int
    environment: str
    experiment: str
    at: datetime
    computed_at: datetime
    document: Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class BackfillRecord:
    """A backfill job as the store knows it: document, status, progress mirror, lease.

    Attributes:
        status: ``pending``, ``running``, ``pausing`` (asked to stop at the next batch),
            ``paused``, ``stopped``, ``completed`` or ``failed``.
        last_key: the JSON key of the last committed batch (``None`` before the first).
        lease_owner, lease_expires_at: the worker running it, and until when its claim holds.
        verify: the last verify pass (counts, differing ranges, ``identical``), if any.
    """

    name: str
    document: Mapping[str, Any]
    fingerprint: str
    strategy: str
    status: str
    rows_done: int
    rows_total: int | None
    batches: int
    batch_size: int
    rows_per_second: float
    eta_seconds: float | None
    last_key: str | None
    lease_owner: str | None
    lease_expires_at: datetime | None
    error: str | None
    verify: Mapping[str, Any] | None
    version: int
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class BackfillCheckpoint:
    """One committed batch of a backfill job."""

    job: str
    at: datetime
    worker: str
    last_key: str | None
    rows_done: int
    batch_rows: int
    batch_size: int
    batch_seconds: float
