"""Experiments: create, read, change coverage, start and stop, each audited.

An experiment belongs to one environment and lives ``draft -> running -> stopped``. Units are
assigned by the flag engine (``rheostat.experiments.assignment``): inclusion by coverage and
arm by weight, with independent salts. So coverage may change at any time without moving an
assigned unit, while the arms and their weights are fixed once the experiment has started
(changing them would move units between arms: a ``ValidationError`` says so). A stopped
experiment is final: it records nothing more and cannot start again (``Conflict``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from rheostat.errors import Conflict, NotFound, ValidationError
from rheostat.experiments.model import Arm, Experiment, ExperimentStatus
from rheostat.experiments.validate import validate_definition
from rheostat.inputs import validate_lookup
from rheostat.service.audit import record_audit
from rheostat.service.change import Change, refuse_stale
from rheostat.store.mappers import experiment_definition
from rheostat.store.records import AuditAction, ExperimentRecord
from rheostat.store.unit_of_work import UnitOfWork

__all__ = [
    "ExperimentChanges",
    "create_experiment",
    "existing_experiment",
    "get_experiment",
    "list_experiments",
    "running_experiment",
    "start_experiment",
    "stop_experiment",
    "update_experiment",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class ExperimentChanges:
    """What ``update_experiment`` changes; ``None`` keeps the stored value.

    Attributes:
        coverage_percent: share of all units in the experiment; raising it adds units and
            lowering it removes some, never moving anyone between arms.
        arms: new arms and weights, only while the experiment is a draft.
        description: free text.
    """

    coverage_percent: float | None = None
    arms: tuple[Arm, ...] | None = None
    description: str | None = None


def create_experiment(
    uow: UnitOfWork,
    environment: str,
    experiment: Experiment,
    *,
    change: Change,
) -> ExperimentRecord:
    """Create ``experiment`` as a draft in ``environment`` (its status and times are ignored).

    Raises:
        NotFound (environment), ValidationError, InvalidDefinition, AlreadyExists.
    """
    validate_definition(experiment)
    validate_lookup(environment=environment)
    uow.environments.get(environment, lock=True)
    draft = replace(
        experiment,
        status=ExperimentStatus.DRAFT,
        created_at=uow.now,
        started_at=None,
        stopped_at=None,
    )
    created = uow.experiments.add(environment, draft, at=uow.now)
    _audit(uow, AuditAction.EXPERIMENT_CREATED, (None, created), change)
    return created


def get_experiment(uow: UnitOfWork, environment: str, key: str) -> ExperimentRecord:
    """Return one experiment. Raises ``NotFound`` (environment or experiment)."""
    validate_lookup(environment=environment, experiment=key)
    return existing_experiment(uow, environment, key)


def list_experiments(
    uow: UnitOfWork, environment: str, *, status: ExperimentStatus | str | None = None
) -> list[ExperimentRecord]:
    """Return the environment's experiments (only those in ``status`` if given), by key.

    Raises:
        NotFound (environment). ValidationError: unknown status.
    """
    wanted = None if status is None else _status(status)
    validate_lookup(environment=environment)
    return uow.experiments.list(environment, status=wanted)


def update_experiment(
    uow: UnitOfWork,
    environment: str,
    key: str,
    changes: ExperimentChanges,
    *,
    change: Change,
) -> ExperimentRecord:
    """Change coverage, description, or (drafts only) the arms. No change writes nothing.

    Raises:
        NotFound. Conflict: stale ``change.expected_version``, or the experiment is stopped.
        ValidationError: new arms for a started experiment, or a bad value.
    """
    validate_lookup(environment=environment, experiment=key)
    current = existing_experiment(uow, environment, key, lock=True)
    refuse_stale("experiment", _subject(current), change.expected_version, current.version)
    _refuse_if_stopped(current, "changed")
    changed = _changed(current, changes)
    if changed == current.experiment:
        return current
    validate_definition(changed)
    updated = uow.experiments.save(environment, changed, at=uow.now)
    _audit(uow, AuditAction.EXPERIMENT_UPDATED, (current, updated), change)
    return updated


def start_experiment(
    uow: UnitOfWork,
    environment: str,
    key: str,
    *,
    change: Change,
) -> ExperimentRecord:
    """Start assigning and recording. Starting a running experiment changes nothing.

    Raises:
        NotFound. Conflict: the experiment is stopped (create a new one), or stale version.
    """
    validate_lookup(environment=environment, experiment=key)
    current = existing_experiment(uow, environment, key, lock=True)
    refuse_stale("experiment", _subject(current), change.expected_version, current.version)
    _refuse_if_stopped(current, "started again")
    if current.status is ExperimentStatus.RUNNING:
        return current
    running = replace(current.experiment, status=ExperimentStatus.RUNNING, started_at=uow.now)
    started = uow.experiments.save(environment, running, at=uow.now)
    _audit(uow, AuditAction.EXPERIMENT_STARTED, (current, started), change)
    return started


def stop_experiment(
    uow: UnitOfWork,
    environment: str,
    key: str,
    *,
    change: Change,
) -> ExperimentRecord:
    """Stop for good: nothing more is recorded, results stay readable. Idempotent.

    Raises:
        NotFound. Conflict: stale ``change.expected_version``.
    """
    validate_lookup(environment=environment, experiment=key)
    current = existing_experiment(uow, environment, key, lock=True)
    refuse_stale("experiment", _subject(current), change.expected_version, current.version)
    if current.status is ExperimentStatus.STOPPED:
        return current
    stopping = replace(current.experiment, status=ExperimentStatus.STOPPED, stopped_at=uow.now)
    stopped = uow.experiments.save(environment, stopping, at=uow.now)
    _audit(uow, AuditAction.EXPERIMENT_STOPPED, (current, stopped), change)
    return stopped


def existing_experiment(
    uow: UnitOfWork, environment: str, key: str, *, lock: bool = False, share: bool = False
) -> ExperimentRecord:
    """Return the experiment. Raises ``NotFound`` (environment or experiment)."""
    found = uow.experiments.find(environment, key, lock=lock, share=share)
    if found is None:
        raise NotFound(
            f"experiment {key!r} does not exist in environment {environment!r}",
            details={"environment": environment, "experiment": key},
        )
    return found


def running_experiment(uow: UnitOfWork, environment: str, key: str) -> ExperimentRecord:
    """Return the experiment if it is running; a stop waits until this transaction ends.

    Raises:
        NotFound. Conflict: it is a draft (start it first) or stopped (nothing more is recorded).
    """
    current = existing_experiment(uow, environment, key, share=True)
    if current.status is ExperimentStatus.RUNNING:
        return current
    advice = (
        "start it first"
        if current.status is ExperimentStatus.DRAFT
        else "a stopped experiment records nothing more"
    )
    raise Conflict(
        f"experiment {key!r} in {environment!r} is {current.status.value}, not running: {advice}",
        details={**_subject(current), "status": current.status.value},
    )


def _changed(current: ExperimentRecord, changes: ExperimentChanges) -> Experiment:
    experiment = current.experiment
    moves_units = changes.arms is not None and _weights(changes.arms) != _weights(experiment.arms)
    if moves_units and current.status is not ExperimentStatus.DRAFT:
        raise ValidationError(
            f"experiment {current.key!r} is {current.status.value}: its arms and weights"
            " cannot change, as that would move assigned units between arms; change"
            " coverage instead, or stop it and create a new experiment",
            details={**_subject(current), "field": "arms"},
        )
    updates: dict[str, Any] = {
        "coverage_percent": changes.coverage_percent,
        "arms": changes.arms,
        "description": changes.description,
    }
    return replace(experiment, **{name: v for name, v in updates.items() if v is not None})


def _weights(arms: tuple[Arm, ...]) -> list[tuple[str, float]]:
    return [(arm.name, arm.weight_percent) for arm in arms]


def _refuse_if_stopped(current: ExperimentRecord, verb: str) -> None:
    if current.status is ExperimentStatus.STOPPED:
        raise Conflict(
            f"experiment {current.key!r} in {current.environment!r} is stopped and cannot be"
            f" {verb}; create a new experiment",
            details={**_subject(current), "status": current.status.value},
        )


def _status(status: ExperimentStatus | str) -> ExperimentStatus:
    try:
        return ExperimentStatus(status)
    except ValueError:
        known = ", ".join(s.value for s in ExperimentStatus)
        raise ValidationError(
            f"unknown experiment status {status!r} (one of {known})", details={"field": "status"}
        ) from None


def _subject(current: ExperimentRecord) -> dict[str, str]:
    return {"environment": current.environment, "experiment": current.key}


def _audit(
    uow: UnitOfWork,
    action: AuditAction,
    states: tuple[ExperimentRecord | None, ExperimentRecord | None],
    change: Change,
) -> None:
    before, after = states
    subject = after or before
    if subject is None:  # an audit event is always about some experiment
        return
    record_audit(
        uow,
        action,
        subject=f"experiment:{subject.key}",
        environment=subject.environment,
        states=(_state(before), _state(after)),
        change=change,
    )


def _state(current: ExperimentRecord | None) -> dict[str, Any] | None:
    if current is None:
        return None
    return {
        "version": current.version,
        "status": current.status.value,
        "definition": experiment_definition(current.experiment),
    }
