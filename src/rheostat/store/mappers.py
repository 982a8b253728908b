"""Rows to ``store.records`` values."""

from __future__ import annotations

from typing import Any

from rheostat.experiments.model import Arm, Experiment, ExperimentStatus, MetricKind, MetricSpec
from rheostat.store.records import (
    ApiKey,
    ApiKeyScope,
    AuditAction,
    AuditEvent,
    Environment,
    ExperimentRecord,
    FlagRecord,
    FlagVersion,
    SegmentRecord,
    SegmentVersion,
    StoredResults,
)
from rheostat.store.tables import (
    ApiKeyRow,
    AuditEventRow,
    EnvironmentRow,
    ExperimentResultRow,
    ExperimentRow,
    FlagRow,
    FlagVersionRow,
    SegmentRow,
    SegmentVersionRow,
)

__all__ = [
    "experiment_definition",
    "to_api_key",
    "to_audit_event",
    "to_environment",
    "to_experiment",
    "to_flag",
    "to_flag_version",
    "to_segment",
    "to_segment_version",
    "to_stored_results",
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
        segments=None if row.segments is None else {k: int(v) for k, v in row.segments.items()},
    )


def to_segment_version(row: SegmentVersionRow, environment: str) -> SegmentVersion:
    """Map a ``segment_versions`` row of ``environment``."""
    return SegmentVersion(
        environment=environment,
        key=row.key,
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


def experiment_definition(experiment: Experiment) -> dict[str, Any]:
    """The JSON ``definition`` column of an experiment: what it compares, not its life cycle."""
    return {
        "description": experiment.description,
        "arms": [
            {"name": arm.name, "weight_percent": arm.weight_percent, "component": arm.component}
            for arm in experiment.arms
        ],
        "metrics": [
            {"name": m.name, "kind": m.kind.value, "higher_is_better": m.higher_is_better}
            for m in experiment.metrics
        ],
        "coverage_percent": experiment.coverage_percent,
        "alpha": experiment.alpha,
        "duration_days": experiment.duration_days,
    }


def to_experiment(row: ExperimentRow, environment: str) -> ExperimentRecord:
    """Map an ``experiments`` row of ``environment``."""
    definition = row.definition
    experiment = Experiment(
        key=row.key,
        arms=tuple(
            Arm(name=a["name"], weight_percent=a["weight_percent"], component=a["component"])
            for a in definition["arms"]
        ),
        metrics=tuple(
            MetricSpec(
                name=m["name"], kind=MetricKind(m["kind"]), higher_is_better=m["higher_is_better"]
            )
            for m in definition["metrics"]
        ),
        description=definition["description"],
        coverage_percent=definition["coverage_percent"],
        alpha=definition["alpha"],
        duration_days=definition["duration_days"],
        status=ExperimentStatus(row.status),
        created_at=row.created_at,
        started_at=row.started_at,
        stopped_at=row.stopped_at,
        version=row.version,
    )
    return ExperimentRecord(
        environment=environment, experiment=experiment, updated_at=row.updated_at
    )


def to_stored_results(row: ExperimentResultRow, environment: str, key: str) -> StoredResults:
    """Map an ``experiment_results`` row of experiment ``key`` in ``environment``."""
    return StoredResults(
        id=row.id,
        environment=environment,
        experiment=key,
        at=row.at,
        computed_at=row.computed_at,
        document=row.document,
    )
