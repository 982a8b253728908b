"""``/api/v1/experiments``: A/B experiments; ``/api/v1/client/experiments``: their traffic.

Managing experiments (create, list, read, change coverage, start, stop, results) needs an
``admin`` key. Recording traffic (exposures, metric events, conversions) and reading the
assignment flags is the SDK's part: an ``sdk`` key does it for its own environment, under
``/api/v1/client/`` like the other SDK routes. Every route names the environment with
``?environment=<key>`` (an ``sdk`` key defaults to its own).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from rheostat import service
from rheostat.api.auth import actor_for
from rheostat.api.deps import (
    AdminKey,
    EnvironmentQuery,
    IfMatch,
    SdkEnvironment,
    Transaction,
    resolve_expected_version,
    version_etag,
)
from rheostat.api.schemas.common import ChangeRequest, ItemList
from rheostat.api.schemas.experiments import (
    AssignmentDocument,
    ConversionBatch,
    ExperimentCreate,
    ExperimentPublic,
    ExperimentUpdate,
    ExposureBatch,
    MetricBatch,
    ReceiptPublic,
    ResultsPublic,
    StoredResultsPublic,
)
from rheostat.experiments.model import ExperimentStatus
from rheostat.service import ExperimentRecord

__all__ = ["client_router", "router"]

router = APIRouter(prefix="/api/v1/experiments", tags=["experiments"])
client_router = APIRouter(prefix="/api/v1/client/experiments", tags=["sdk"])

AtQuery = Annotated[
    datetime | None,
    Query(description="replay the results as they were at this past moment (ISO 8601)"),
]


def _public(record: ExperimentRecord, response: Response) -> ExperimentPublic:
    response.headers["ETag"] = version_etag(record.version)
    return ExperimentPublic.from_record(record)


@router.get("")
def list_experiments(
    environment: EnvironmentQuery,
    uow: Transaction,
    _: AdminKey,
    status_filter: Annotated[ExperimentStatus | None, Query(alias="status")] = None,
) -> ItemList[ExperimentPublic]:
    """List the environment's experiments, sorted by key."""
    records = service.list_experiments(uow, environment, status=status_filter)
    return ItemList(items=[ExperimentPublic.from_record(record) for record in records])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_experiment(
    environment: EnvironmentQuery,
    body: ExperimentCreate,
    uow: Transaction,
    api_key: AdminKey,
    response: Response,
) -> ExperimentPublic:
    """Create a draft experiment (arms default to control/treatment, 50/50)."""
    record = service.create_experiment(
        uow,
        environment,
        body.to_domain(),
        change=service.Change(actor=actor_for(api_key), reason=body.reason),
    )
    return _public(record, response)


@router.get("/{key}")
def get_experiment(
    key: str, environment: EnvironmentQuery, uow: Transaction, _: AdminKey, response: Response
) -> ExperimentPublic:
    """Return one experiment."""
    return _public(service.get_experiment(uow, environment, key), response)


@router.patch("/{key}")
def update_experiment(  # noqa: PLR0913  # FastAPI injects each dependency as a parameter
    key: str,
    environment: EnvironmentQuery,
    body: ExperimentUpdate,
    uow: Transaction,
    api_key: AdminKey,
    response: Response,
    if_match: IfMatch = None,
) -> ExperimentPublic:
    """Change coverage or description; arms only while a draft (else 422)."""
    record = service.update_experiment(
        uow,
        environment,
        key,
        body.to_domain(),
        change=service.Change(
            actor=actor_for(api_key),
            reason=body.reason,
            expected_version=resolve_expected_version(body.expected_version, if_match),
        ),
    )
    return _public(record, response)


@router.post("/{key}/start")
def start_experiment(  # noqa: PLR0913  # FastAPI injects each dependency as a parameter
    key: str,
    environment: EnvironmentQuery,
    uow: Transaction,
    api_key: AdminKey,
    response: Response,
    body: ChangeRequest | None = None,
    if_match: IfMatch = None,
) -> ExperimentPublic:
    """Start assigning units and recording traffic (409 if it was stopped)."""
    change = body or ChangeRequest()
    record = service.start_experiment(
        uow,
        environment,
        key,
        change=service.Change(
            actor=actor_for(api_key),
            reason=change.reason,
            expected_version=resolve_expected_version(change.expected_version, if_match),
        ),
    )
    return _public(record, response)


@router.post("/{key}/stop")
def stop_experiment(  # noqa: PLR0913  # FastAPI injects each dependency as a parameter
    key: str,
    environment: EnvironmentQuery,
    uow: Transaction,
    api_key: AdminKey,
    response: Response,
    body: ChangeRequest | None = None,
    if_match: IfMatch = None,
) -> ExperimentPublic:
    """Stop for good: nothing more is recorded; everyone gets the control arm."""
    change = body or ChangeRequest()
    record = service.stop_experiment(
        uow,
        environment,
        key,
        change=service.Change(
            actor=actor_for(api_key),
            reason=change.reason,
            expected_version=resolve_expected_version(change.expected_version, if_match),
        ),
    )
    return _public(record, response)


@router.get("/{key}/results")
def experiment_results(
    key: str, environment: EnvironmentQuery, uow: Transaction, _: AdminKey, at: AtQuery = None
) -> ResultsPublic:
    """Compute the results now (and store them), or replay them as they were ``at``."""
    report = service.experiment_results(uow, environment, key, at=_utc(at))
    return ResultsPublic.from_domain(report)


@router.get("/{key}/results/history")
def stored_results(
    key: str,
    environment: EnvironmentQuery,
    uow: Transaction,
    _: AdminKey,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
) -> ItemList[StoredResultsPublic]:
    """The stored results computations, newest first."""
    found = service.list_experiment_results(uow, environment, key, limit=limit)
    return ItemList(items=[StoredResultsPublic.from_record(stored) for stored in found])


@client_router.get("/{key}")
def assignment_flags(key: str, uow: Transaction, target: SdkEnvironment) -> AssignmentDocument:
    """The flags that assign units to arms, to evaluate in the SDK (off unless running)."""
    flags = service.assignment_flags_of(uow, target, key)
    return AssignmentDocument(
        key=flags.experiment.key,
        status=flags.experiment.status,
        flag=flags.flag,
        document=dict(flags.document),
    )


@client_router.post("/{key}/exposures")
def record_exposures(
    key: str,
    body: ExposureBatch,
    uow: Transaction,
    target: SdkEnvironment,
) -> ReceiptPublic:
    """Record served units; each counts once, in its assigned arm (the answer lists arms)."""
    exposures = [exposure.to_domain(body.commit_sha) for exposure in body.exposures]
    return ReceiptPublic.from_domain(service.record_exposures(uow, target, key, exposures))


@client_router.post("/{key}/metrics")
def record_metrics(
    key: str,
    body: MetricBatch,
    uow: Transaction,
    target: SdkEnvironment,
) -> ReceiptPublic:
    """Record mean-metric events; an ``event_id`` sent again is not counted again."""
    events = [event.to_domain() for event in body.events]
    return ReceiptPublic.from_domain(service.record_metrics(uow, target, key, events))


@client_router.post("/{key}/conversions")
def record_conversions(
    key: str,
    body: ConversionBatch,
    uow: Transaction,
    target: SdkEnvironment,
) -> ReceiptPublic:
    """Record conversions of exposed units on proportion metrics (once per unit)."""
    conversions = [conversion.to_domain() for conversion in body.conversions]
    return ReceiptPublic.from_domain(service.record_conversions(uow, target, key, conversions))


def _utc(at: datetime | None) -> datetime | None:
    """A time without a zone is taken as UTC."""
    if at is None or at.tzinfo is not None:
        return at
    return at.replace(tzinfo=UTC)
