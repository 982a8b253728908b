"""Checks of experiment definitions and of the traffic recorded into them.

Every refusal is a ``ValidationError`` naming the field (``exposures[3].unit``) and the value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from rheostat.errors import ValidationError
from rheostat.experiments.assignment import assignment_document
from rheostat.experiments.model import Arm, Experiment, MetricKind
from rheostat.flags import FlagSet
from rheostat.inputs import validate_text

__all__ = [
    "MAX_BATCH",
    "MAX_METRIC_VALUE",
    "assignment_flags",
    "validate_arm",
    "validate_batch",
    "validate_commit",
    "validate_definition",
    "validate_event_id",
    "validate_mean_metric",
    "validate_name",
    "validate_proportion_metric",
    "validate_unit",
    "validate_value",
]

MAX_BATCH = 10_000
"""Items per recording call: bigger batches are split by the sender."""
MAX_METRIC_VALUE = 1e12
"""The largest magnitude of one metric observation (a trillion: any latency, count, score or
amount of money in cents). Its square is at most 1e24, so a window's sum of squares stays
finite for up to 1e284 observations (a batch holds ``MAX_BATCH``; an experiment runs for
years), and so do the analysis's ``n * sum_squares`` and ``sum ** 2``. Without a bound, one
value of 1e308 made its arm's variance infinite and dropped the arm from the results."""
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")
_COMMIT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/+-]{0,63}")
_EVENT_ID = re.compile(r"[\x21-\x7e]{1,128}")  # printable ASCII without spaces (UUIDs, ULIDs...)
_MAX_UNIT = 256
_MAX_DESCRIPTION = 2000
_MAX_DURATION_DAYS = 3650


def validate_definition(experiment: Experiment) -> None:
    """Check what ``Experiment`` itself does not: names, metrics, duration, description.

    Raises:
        ValidationError: naming the field. InvalidDefinition: the arms do not make a flag.
    """
    for index, arm in enumerate(experiment.arms):
        validate_name(arm.name, f"arms[{index}].name")
    names = [spec.name for spec in experiment.metrics]
    for index, name in enumerate(names):
        validate_name(name, f"metrics[{index}].name")
    if len(set(names)) != len(names):
        raise ValidationError(
            f"metric names must be unique, got {names}", details={"field": "metrics"}
        )
    _check_description(experiment.description)
    _check_duration(experiment.duration_days)
    assignment_flags(experiment.key, experiment.arms, experiment.coverage_percent)


def validate_name(name: object, field: str) -> str:
    """Return ``name`` if it is a valid arm or metric name."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValidationError(
            f"{field} {name!r} is not valid: use 1-64 letters, digits, '_', '.', ':', '-',"
            " starting with a letter or digit",
            details={"field": field, "value": repr(name)},
        )
    return name


def validate_unit(unit: object, field: str) -> str:
    """Return ``unit`` (the key assignment hashes, usually a user id) if it is usable."""
    if not isinstance(unit, str) or not unit or len(unit) > _MAX_UNIT:
        raise ValidationError(
            f"{field} must be a non-empty string of at most {_MAX_UNIT} characters, got {unit!r}",
            details={"field": field},
        )
    validate_text(unit, field)
    return unit


def validate_commit(commit: object, field: str) -> str | None:
    """Return ``commit`` (a commit SHA or version label, or ``None``) if it is usable."""
    if commit is not None and (not isinstance(commit, str) or not _COMMIT.fullmatch(commit)):
        raise ValidationError(
            f"{field} {commit!r} is not a commit: use 1-64 letters, digits, '.', '_', '/', '+',"
            " '-'",
            details={"field": field, "value": repr(commit)},
        )
    return commit


def validate_event_id(event_id: object, field: str) -> str | None:
    """Return ``event_id`` (``None`` or 1-128 printable ASCII characters without spaces)."""
    if event_id is not None and (
        not isinstance(event_id, str) or not _EVENT_ID.fullmatch(event_id)
    ):
        raise ValidationError(
            f"{field} must be 1-128 printable ASCII characters without spaces, got {event_id!r}",
            details={"field": field},
        )
    return event_id


def validate_value(value: object, field: str, *, limit: float = MAX_METRIC_VALUE) -> float:
    """Return ``value`` as a float if it is a finite number (not a bool) of at most ``limit``.

    Args:
        limit: the largest magnitude accepted: ``MAX_METRIC_VALUE`` for one observation; a
            summary of ``n`` passes ``n`` times it for its sum, ``n`` times its square for
            its sum of squares.

    Raises:
        ValidationError: naming the field, the bound and the value.
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or abs(value) > limit
    ):
        raise ValidationError(
            f"{field} must be a finite number from {-limit:g} to {limit:g}, got {value!r}",
            details={"field": field, "limit": limit},
        )
    return float(value)


def validate_batch(items: Sequence[Any], field: str) -> None:
    """Refuse a batch that is not a sequence or holds more than ``MAX_BATCH`` items."""
    if isinstance(items, str | bytes) or not isinstance(items, Sequence):
        raise ValidationError(f"{field} must be a list", details={"field": field})
    if len(items) > MAX_BATCH:
        raise ValidationError(
            f"{field} holds {len(items)} items; send at most {MAX_BATCH} per call",
            details={"field": field, "count": len(items)},
        )


def validate_arm(experiment: Experiment, arm: object, field: str) -> None:
    """Refuse an arm the experiment does not have."""
    names = [candidate.name for candidate in experiment.arms]
    if arm not in names:
        raise ValidationError(
            f"{field}: experiment {experiment.key!r} has no arm {arm!r} (arms: {names})",
            details={"field": field, "arms": names},
        )


def validate_mean_metric(experiment: Experiment, metric: str, field: str) -> None:
    """Refuse a metric the experiment does not track (when it lists any), or a proportion."""
    declared = [spec.name for spec in experiment.metrics]
    if declared and metric not in declared:
        raise ValidationError(
            f"{field}: experiment {experiment.key!r} tracks {declared}, not {metric!r}",
            details={"field": field, "metrics": declared},
        )
    if experiment.metric(metric).kind is MetricKind.PROPORTION:
        raise ValidationError(
            f"{field}: {metric!r} is a proportion metric: record it as conversions of units",
            details={"field": field},
        )


def validate_proportion_metric(experiment: Experiment, metric: object, field: str) -> None:
    """Refuse a metric that is not one of the experiment's declared proportion metrics."""
    validate_name(metric, f"{field}.metric")
    kinds = {spec.name: spec.kind for spec in experiment.metrics}
    if kinds.get(str(metric)) is not MetricKind.PROPORTION:
        proportions = [name for name, kind in kinds.items() if kind is MetricKind.PROPORTION]
        raise ValidationError(
            f"{field}.metric: {metric!r} is not a proportion metric of experiment"
            f" {experiment.key!r} (its proportion metrics: {proportions}); declare it with"
            " kind 'proportion' when creating the experiment",
            details={"field": f"{field}.metric", "metrics": proportions},
        )


@lru_cache(maxsize=256)
def assignment_flags(key: str, arms: tuple[Arm, ...], coverage_percent: float) -> FlagSet:
    """The compiled flags that assign units to an experiment's arms (cached: pure and immutable).

    Raises:
        InvalidDefinition: the arms cannot form a flag.
    """
    experiment = Experiment(key=key, arms=arms, coverage_percent=coverage_percent)
    return FlagSet.from_dict(assignment_document(experiment))


def _check_description(description: object) -> None:
    if not isinstance(description, str) or len(description) > _MAX_DESCRIPTION:
        raise ValidationError(
            f"description must be text of at most {_MAX_DESCRIPTION} characters",
            details={"field": "description"},
        )
    validate_text(description, "description", multiline=True)


def _check_duration(duration_days: object) -> None:
    if duration_days is None:
        return
    if (
        isinstance(duration_days, bool)
        or not isinstance(duration_days, int | float)
        or not 0 < duration_days <= _MAX_DURATION_DAYS
    ):
        raise ValidationError(
            f"duration_days must be a number of days in (0, {_MAX_DURATION_DAYS}],"
            f" got {duration_days!r}",
            details={"field": "duration_days"},
        )
