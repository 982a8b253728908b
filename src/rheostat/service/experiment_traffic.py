"""Recording traffic into a running experiment: exposures, metric events, conversions.

Everything is stamped with the server's receive time (the store's clock), never the sender's:

* an **exposure** records a unit's arm once (unique per experiment and unit), with the time it
  was first seen and the commit that served it; the arm is always the one assignment gives;
* a **metric event** is one observation of a mean metric in an arm (the seed's model: a latency
  per request), or a pre-aggregated summary ``(n, sum, sum_squares)``; it is added to the
  1-minute window of its receive time, one row per arm, metric and window. An event carrying an
  ``event_id`` is counted once, however often it is sent;
* a **conversion** marks a unit as a success of a proportion metric, at most once per unit.

A batch is one transaction: all of it is recorded, or (on a bad item) none of it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rheostat.errors import ValidationError
from rheostat.experiments.assignment import assign, assignment_document
from rheostat.experiments.model import ExperimentStatus
from rheostat.experiments.validate import (
    MAX_METRIC_VALUE,
    assignment_flags,
    validate_arm,
    validate_batch,
    validate_commit,
    validate_event_id,
    validate_mean_metric,
    validate_name,
    validate_proportion_metric,
    validate_unit,
    validate_value,
)
from rheostat.inputs import validate_lookup
from rheostat.service.experiments import existing_experiment, running_experiment
from rheostat.store.records import ExperimentRecord
from rheostat.store.repositories import WindowTotals
from rheostat.store.unit_of_work import UnitOfWork

__all__ = [
    "WINDOW",
    "Assignment",
    "AssignmentFlags",
    "Conversion",
    "Exposure",
    "MetricEvent",
    "Receipt",
    "assign_unit",
    "assignment_flags_of",
    "record_conversions",
    "record_exposures",
    "record_metrics",
    "window_of",
]

WINDOW = timedelta(minutes=1)
"""Length of a metric window; a window that has ended never changes."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Exposure:
    """A unit was served the experiment.

    Attributes:
        unit: the assignment key (usually the user id).
        arm: the arm the sender served, if it says; refused when assignment disagrees.
        commit_sha: the commit (or version) that served it; arms on different commits make the
            result invalid.
    """

    unit: str
    arm: str | None = None
    commit_sha: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricEvent:
    """An observation of a mean metric in an arm: ``value``, or a summary of many.

    Attributes:
        value: one observation (a latency, a score).
        n, sum, sum_squares: instead of ``value``, a summary of ``n`` observations.
        event_id: makes the event idempotent: sent again, it is not counted again.
    """

    arm: str
    metric: str
    value: float | None = None
    n: int | None = None
    sum: float | None = None
    sum_squares: float | None = None
    event_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Conversion:
    """An exposed unit converted on a proportion metric (counted once per unit)."""

    unit: str
    metric: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Assignment:
    """A unit's arm; ``None`` when coverage leaves it out. ``recorded``: a new exposure."""

    unit: str
    arm: str | None
    recorded: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Receipt:
    """What a recording call did.

    Attributes:
        recorded: items counted now.
        duplicates: items already counted before (retries, repeated units or event ids).
        excluded: exposures of units outside the experiment's coverage (not recorded).
        assignments: for exposures, every unit's arm (``None`` when excluded).
    """

    recorded: int
    duplicates: int
    excluded: int = 0
    assignments: tuple[Assignment, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class AssignmentFlags:
    """The flags that assign an experiment's units, for an SDK to evaluate locally.

    Attributes:
        flag: the flag whose variant is a unit's arm (``rheostat.experiments.assign`` reads it).
        document: native flag document; while the experiment is not running its flag is off,
            so everyone gets the control variant and ``assign`` gives ``None``.
    """

    experiment: ExperimentRecord
    flag: str
    document: Mapping[str, Any]


def assignment_flags_of(uow: UnitOfWork, environment: str, key: str) -> AssignmentFlags:
    """Return the experiment's assignment flags. Raises ``NotFound``."""
    validate_lookup(environment=environment, experiment=key)
    current = existing_experiment(uow, environment, key)
    experiment = current.experiment
    document = assignment_document(experiment)
    if current.status is not ExperimentStatus.RUNNING:
        document["flags"][experiment.flag_key]["enabled"] = False
    return AssignmentFlags(experiment=current, flag=experiment.flag_key, document=document)


def window_of(moment: datetime) -> tuple[datetime, datetime]:
    """Return the ``(start, end)`` of the metric window holding ``moment``."""
    start = moment.replace(second=0, microsecond=0)
    return start, start + WINDOW


def assign_unit(
    uow: UnitOfWork, environment: str, key: str, unit: str, *, commit_sha: str | None = None
) -> Assignment:
    """Return ``unit``'s arm, recording its exposure while the experiment runs.

    A draft or stopped experiment serves everyone its control arm and records nothing, like a
    flag that is off: stopping an experiment never breaks the code that asks.

    Raises:
        NotFound: no such experiment. ValidationError: bad unit or commit.
    """
    validate_unit(unit, "unit")
    validate_commit(commit_sha, "commit_sha")
    validate_lookup(environment=environment, experiment=key)
    current = existing_experiment(uow, environment, key, share=True)
    if current.status is not ExperimentStatus.RUNNING:
        return Assignment(unit=unit, arm=current.experiment.control.name)
    receipt = _expose(uow, current, [Exposure(unit=unit, commit_sha=commit_sha)])
    return receipt.assignments[0]


def record_exposures(
    uow: UnitOfWork, environment: str, key: str, exposures: Sequence[Exposure]
) -> Receipt:
    """Record that these units were served; each unit counts once, in the arm it is assigned.

    Raises:
        NotFound. Conflict: the experiment is not running. ValidationError: a bad item, or
        an ``arm`` that is not the unit's (``exposures[i]`` names it).
    """
    validate_batch(exposures, "exposures")
    for index, exposure in enumerate(exposures):
        validate_unit(exposure.unit, f"exposures[{index}].unit")
        validate_commit(exposure.commit_sha, f"exposures[{index}].commit_sha")
    validate_lookup(environment=environment, experiment=key)
    return _expose(uow, running_experiment(uow, environment, key), exposures)


def record_metrics(
    uow: UnitOfWork, environment: str, key: str, events: Sequence[MetricEvent]
) -> Receipt:
    """Add metric events to the current window of their arm and metric.

    Raises:
        NotFound. Conflict: not running. ValidationError: an unknown arm or metric, a
        proportion metric (record conversions instead), or bad numbers (``events[i]``).
    """
    validate_batch(events, "events")
    totals_of = [_totals(event, f"events[{index}]") for index, event in enumerate(events)]
    validate_lookup(environment=environment, experiment=key)
    current = running_experiment(uow, environment, key)
    for index, event in enumerate(events):
        validate_arm(current.experiment, event.arm, f"events[{index}].arm")
        validate_mean_metric(current.experiment, event.metric, f"events[{index}].metric")
    counted = _first_times(uow, current, [event.event_id for event in events])
    totals: dict[tuple[str, str], list[WindowTotals]] = {}
    for event, event_totals, is_counted in zip(events, totals_of, counted, strict=True):
        if is_counted:
            totals.setdefault((event.arm, event.metric), []).append(event_totals)
    uow.experiments.add_to_windows(
        current, {k: _merged(v) for k, v in totals.items()}, window=window_of(uow.now)
    )
    recorded = sum(counted)
    return Receipt(recorded=recorded, duplicates=len(events) - recorded)


def record_conversions(
    uow: UnitOfWork, environment: str, key: str, conversions: Sequence[Conversion]
) -> Receipt:
    """Mark exposed units as converted on proportion metrics (once per unit and metric).

    Raises:
        NotFound. Conflict: not running. ValidationError: a metric that is not a declared
        proportion metric, or a unit that was never exposed (``conversions[i]``).
    """
    validate_batch(conversions, "conversions")
    for index, conversion in enumerate(conversions):
        validate_unit(conversion.unit, f"conversions[{index}].unit")
    validate_lookup(environment=environment, experiment=key)
    current = running_experiment(uow, environment, key)
    for index, conversion in enumerate(conversions):
        validate_proportion_metric(current.experiment, conversion.metric, f"conversions[{index}]")
    arms = uow.experiments.arms_of(current, (c.unit for c in conversions))
    rows = [(c.metric, c.unit, _exposed_arm(arms, c, i)) for i, c in enumerate(conversions)]
    new = uow.experiments.add_conversions(current, rows, at=uow.now)
    totals: dict[tuple[str, str], int] = {}
    for metric, unit, arm in dict.fromkeys(rows):
        if (metric, unit) in new:
            totals[(arm, metric)] = totals.get((arm, metric), 0) + 1
    uow.experiments.add_to_windows(
        current,
        {k: WindowTotals(n=n, sum=float(n), sum_squares=float(n)) for k, n in totals.items()},
        window=window_of(uow.now),
    )
    return Receipt(recorded=len(new), duplicates=len(conversions) - len(new))


def _expose(uow: UnitOfWork, current: ExperimentRecord, exposures: Sequence[Exposure]) -> Receipt:
    experiment = current.experiment
    flags = assignment_flags(experiment.key, experiment.arms, experiment.coverage_percent)
    first: dict[str, tuple[str, str | None]] = {}
    assigned: list[tuple[str, str | None]] = []
    for index, exposure in enumerate(exposures):
        arm = assign(flags, experiment, exposure.unit)
        if exposure.arm is not None and exposure.arm != arm:
            raise _wrong_arm(exposure, arm, f"exposures[{index}].arm")
        assigned.append((exposure.unit, arm))
        if arm is not None:
            first.setdefault(exposure.unit, (arm, exposure.commit_sha))
    rows = [(unit, arm, commit) for unit, (arm, commit) in first.items()]
    new = uow.experiments.add_exposures(current, rows, at=uow.now)
    seen: set[str] = set()
    assignments = []
    for unit, arm in assigned:
        assignments.append(
            Assignment(unit=unit, arm=arm, recorded=unit in new and unit not in seen)
        )
        seen.add(unit)
    excluded = sum(1 for _, arm in assigned if arm is None)
    return Receipt(
        recorded=len(new),
        duplicates=len(exposures) - excluded - len(new),
        excluded=excluded,
        assignments=tuple(assignments),
    )


def _first_times(
    uow: UnitOfWork, current: ExperimentRecord, event_ids: Sequence[str | None]
) -> list[bool]:
    """Whether each event is counted now: no id, or an id never seen before (first in batch)."""
    for index, event_id in enumerate(event_ids):
        validate_event_id(event_id, f"events[{index}].event_id")
    fresh = uow.experiments.claim_event_ids(
        current, (i for i in event_ids if i is not None), at=uow.now
    )
    counted = []
    for event_id in event_ids:
        counted.append(event_id is None or event_id in fresh)
        if event_id is not None:
            fresh.discard(event_id)  # a repeat within the batch is a duplicate too
    return counted


def _totals(event: MetricEvent, field: str) -> WindowTotals:
    validate_name(event.metric, f"{field}.metric")
    if event.value is not None and (event.n, event.sum, event.sum_squares) == (None, None, None):
        value = validate_value(event.value, f"{field}.value")
        return WindowTotals(n=1, sum=value, sum_squares=value * value)
    if event.value is None and None not in (event.n, event.sum, event.sum_squares):
        return _summary(event, field)
    raise ValidationError(
        f"{field} must carry either value, or n, sum and sum_squares",
        details={"field": field},
    )


def _summary(event: MetricEvent, field: str) -> WindowTotals:
    n = event.n
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 2**53:
        raise ValidationError(
            f"{field}.n must be a positive integer, got {n!r}", details={"field": f"{field}.n"}
        )
    total = validate_value(event.sum, f"{field}.sum", limit=n * MAX_METRIC_VALUE)
    squares = validate_value(
        event.sum_squares, f"{field}.sum_squares", limit=n * MAX_METRIC_VALUE**2
    )
    slack = 1e-9 * max(abs(squares), 1.0)  # float cancellation, as in rheostat.stats
    if squares < 0 or squares - total * (total / n) < -slack or not math.isfinite(total * total):
        raise ValidationError(
            f"{field}: sum_squares ({squares}) cannot be below sum**2 / n ({total * total / n})",
            details={"field": f"{field}.sum_squares"},
        )
    return WindowTotals(n=n, sum=total, sum_squares=squares)


def _merged(parts: Sequence[WindowTotals]) -> WindowTotals:
    return WindowTotals(
        n=sum(part.n for part in parts),
        sum=math.fsum(part.sum for part in parts),
        sum_squares=math.fsum(part.sum_squares for part in parts),
    )


def _exposed_arm(arms: dict[str, str], conversion: Conversion, index: int) -> str:
    arm = arms.get(conversion.unit)
    if arm is None:
        raise ValidationError(
            f"conversions[{index}].unit: unit {conversion.unit!r} was never exposed to this"
            " experiment; record its exposure first",
            details={"field": f"conversions[{index}].unit"},
        )
    return arm


def _wrong_arm(exposure: Exposure, arm: str | None, field: str) -> ValidationError:
    actual = "outside the experiment's coverage" if arm is None else f"assigned to arm {arm!r}"
    return ValidationError(
        f"{field}: unit {exposure.unit!r} is {actual}, not {exposure.arm!r}; refresh the"
        " experiment's assignment document",
        details={"field": field, "arm": arm},
    )
