"""Experiment schemas: Create, Update, Public, traffic batches, receipts and results."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from rheostat.api.schemas.common import ChangeRequest, RequestModel
from rheostat.experiments.model import Arm, Experiment, ExperimentStatus, MetricKind, MetricSpec
from rheostat.experiments.validate import MAX_BATCH
from rheostat.service import (
    Assignment,
    Conversion,
    ExperimentChanges,
    ExperimentRecord,
    Exposure,
    MetricEvent,
    Receipt,
    ResultsReport,
    StoredResults,
)

__all__ = [
    "ArmBody",
    "ConversionBatch",
    "ExperimentCreate",
    "ExperimentPublic",
    "ExperimentUpdate",
    "ExposureBatch",
    "MetricBatch",
    "MetricBody",
    "ReceiptPublic",
    "ResultsPublic",
    "StoredResultsPublic",
]

_NAME = Field(min_length=1, max_length=64, examples=["treatment"])


class ArmBody(RequestModel):
    """An arm: its name, its share of the experiment's units, what it runs."""

    name: str = _NAME
    weight_percent: float = Field(ge=0, le=100, examples=[50])
    component: str = Field(default="", max_length=200, examples=["pubmedbert"])

    def to_domain(self) -> Arm:
        """Convert to the core value."""
        return Arm(name=self.name, weight_percent=self.weight_percent, component=self.component)


class MetricBody(RequestModel):
    """A tracked metric: ``mean`` (a number per event) or ``proportion`` (converted units)."""

    name: str = Field(min_length=1, max_length=64, examples=["latency_ms"])
    kind: MetricKind = MetricKind.MEAN
    higher_is_better: bool = True

    def to_domain(self) -> MetricSpec:
        """Convert to the core value."""
        return MetricSpec(name=self.name, kind=self.kind, higher_is_better=self.higher_is_better)


def _default_arms() -> list[ArmBody]:
    return [
        ArmBody(name="control", weight_percent=50),
        ArmBody(name="treatment", weight_percent=50),
    ]


class ExperimentCreate(RequestModel):
    """Create a draft experiment; the first arm is the control."""

    key: str = Field(min_length=1, max_length=120, examples=["biobert-vs-pubmedbert"])
    description: str = Field(default="", max_length=2000)
    arms: list[ArmBody] = Field(default_factory=_default_arms, min_length=2, max_length=20)
    metrics: list[MetricBody] = Field(default_factory=list, max_length=50)
    coverage_percent: float = Field(default=100, ge=0, le=100)
    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    duration_days: float | None = Field(default=None, gt=0, le=3650)
    reason: str | None = Field(default=None, max_length=2000)

    def to_domain(self) -> Experiment:
        """Convert to the core value (which checks the arms' weights and the key)."""
        return Experiment(
            key=self.key,
            arms=tuple(arm.to_domain() for arm in self.arms),
            metrics=tuple(metric.to_domain() for metric in self.metrics),
            description=self.description,
            coverage_percent=self.coverage_percent,
            alpha=self.alpha,
            duration_days=self.duration_days,
        )


class ExperimentUpdate(ChangeRequest):
    """Change coverage or description at any time, the arms only while a draft."""

    coverage_percent: float | None = Field(default=None, ge=0, le=100)
    description: str | None = Field(default=None, max_length=2000)
    arms: list[ArmBody] | None = Field(default=None, min_length=2, max_length=20)

    def to_domain(self) -> ExperimentChanges:
        """Convert to the service's value."""
        return ExperimentChanges(
            coverage_percent=self.coverage_percent,
            description=self.description,
            arms=None if self.arms is None else tuple(arm.to_domain() for arm in self.arms),
        )


class ArmPublic(BaseModel):
    """An arm as the API shows it."""

    name: str
    weight_percent: float
    component: str


class MetricPublic(BaseModel):
    """A tracked metric as the API shows it."""

    name: str
    kind: MetricKind
    higher_is_better: bool


class ExperimentPublic(BaseModel):
    """An experiment as the API shows it."""

    environment: str
    key: str
    description: str
    status: ExperimentStatus
    arms: list[ArmPublic]
    metrics: list[MetricPublic]
    coverage_percent: float
    alpha: float
    duration_days: float | None
    version: int
    created_at: datetime | None
    started_at: datetime | None
    stopped_at: datetime | None
    updated_at: datetime

    @classmethod
    def from_record(cls, record: ExperimentRecord) -> ExperimentPublic:
        """Convert the service's value."""
        experiment = record.experiment
        return cls(
            environment=record.environment,
            key=experiment.key,
            description=experiment.description,
            status=experiment.status,
            arms=[ArmPublic(name=a.name, weight_percent=a.weight_percent, component=a.component)
                  for a in experiment.arms],
            metrics=[MetricPublic(name=m.name, kind=m.kind, higher_is_better=m.higher_is_better)
                     for m in experiment.metrics],
            coverage_percent=experiment.coverage_percent,
            alpha=experiment.alpha,
            duration_days=experiment.duration_days,
            version=experiment.version,
            created_at=experiment.created_at,
            started_at=experiment.started_at,
            stopped_at=experiment.stopped_at,
            updated_at=record.updated_at,
        )  # fmt: skip


class AssignmentDocument(BaseModel):
    """What an SDK needs to assign units itself: the experiment's state and its flags."""

    key: str
    status: ExperimentStatus
    flag: str = Field(description="the flag whose variant is the unit's arm")
    document: dict[str, Any] = Field(description="native flag document for FlagSet.from_dict")


class ExposureBody(RequestModel):
    """A unit was served the experiment."""

    unit: str = Field(min_length=1, max_length=256, examples=["user-42"])
    arm: str | None = Field(default=None, max_length=64, description="refused if not the unit's")
    commit_sha: str | None = Field(default=None, max_length=64, examples=["3f2c9ab"])

    def to_domain(self, commit_sha: str | None) -> Exposure:
        """Convert to the service's value; ``commit_sha`` is the batch's default."""
        return Exposure(unit=self.unit, arm=self.arm, commit_sha=self.commit_sha or commit_sha)


class ExposureBatch(RequestModel):
    """Exposures to record; each unit counts once, in the arm assignment gives it."""

    exposures: list[ExposureBody] = Field(max_length=MAX_BATCH)
    commit_sha: str | None = Field(default=None, max_length=64, description="for every item")


class MetricEventBody(RequestModel):
    """One observation (``value``) or a summary (``n``, ``sum``, ``sum_squares``)."""

    arm: str = _NAME
    metric: str = Field(min_length=1, max_length=64, examples=["latency_ms"])
    value: float | None = Field(default=None, allow_inf_nan=False, examples=[151.2])
    n: int | None = Field(default=None, ge=1)
    sum: float | None = Field(default=None, allow_inf_nan=False)
    sum_squares: float | None = Field(default=None, allow_inf_nan=False)
    event_id: str | None = Field(
        default=None, max_length=128, description="sent again, the event is not counted again"
    )

    def to_domain(self) -> MetricEvent:
        """Convert to the service's value."""
        return MetricEvent(
            arm=self.arm, metric=self.metric, value=self.value, n=self.n, sum=self.sum,
            sum_squares=self.sum_squares, event_id=self.event_id,
        )  # fmt: skip


class MetricBatch(RequestModel):
    """Metric events of mean metrics."""

    events: list[MetricEventBody] = Field(max_length=MAX_BATCH)


class ConversionBody(RequestModel):
    """An exposed unit converted on a proportion metric."""

    unit: str = Field(min_length=1, max_length=256)
    metric: str = Field(min_length=1, max_length=64, examples=["checkout_completed"])

    def to_domain(self) -> Conversion:
        """Convert to the service's value."""
        return Conversion(unit=self.unit, metric=self.metric)


class ConversionBatch(RequestModel):
    """Conversions; each unit counts once per metric."""

    conversions: list[ConversionBody] = Field(max_length=MAX_BATCH)


class AssignmentPublic(BaseModel):
    """A unit's arm (``null``: outside the experiment's coverage)."""

    unit: str
    arm: str | None

    @classmethod
    def from_domain(cls, assignment: Assignment) -> AssignmentPublic:
        """Convert the service's value."""
        return cls(unit=assignment.unit, arm=assignment.arm)


class ReceiptPublic(BaseModel):
    """What a recording call did."""

    recorded: int = Field(description="counted now")
    duplicates: int = Field(description="already counted before: retries change nothing")
    excluded: int = Field(default=0, description="exposures outside the coverage")
    assignments: list[AssignmentPublic] = Field(default_factory=list)

    @classmethod
    def from_domain(cls, receipt: Receipt) -> ReceiptPublic:
        """Convert the service's value."""
        return cls(
            recorded=receipt.recorded,
            duplicates=receipt.duplicates,
            excluded=receipt.excluded,
            assignments=[AssignmentPublic.from_domain(a) for a in receipt.assignments],
        )


class ResultsPublic(BaseModel):
    """A results computation: the stored document and how it was made."""

    environment: str
    experiment: str
    at: datetime
    computed_at: datetime
    replayed: bool = Field(description="asked for a past moment: recomputed, not stored")
    stored_id: int | None
    matches_stored: bool | None = Field(description="a replay agrees with what was stored")
    results: dict[str, Any]

    @classmethod
    def from_domain(cls, report: ResultsReport) -> ResultsPublic:
        """Convert the service's value."""
        return cls(
            environment=report.environment,
            experiment=report.experiment.key,
            at=report.results.at,
            computed_at=report.computed_at,
            replayed=report.replayed,
            stored_id=report.stored_id,
            matches_stored=report.matches_stored,
            results=dict(report.document),
        )


class StoredResultsPublic(BaseModel):
    """One stored results computation."""

    id: int
    environment: str
    experiment: str
    at: datetime
    computed_at: datetime
    results: dict[str, Any]

    @classmethod
    def from_record(cls, stored: StoredResults) -> StoredResultsPublic:
        """Convert the service's value."""
        return cls(
            id=stored.id,
            environment=stored.environment,
            experiment=stored.experiment,
            at=stored.at,
            computed_at=stored.computed_at,
            results=dict(stored.document),
        )
