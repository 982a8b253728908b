"""Experiment results: computed from stored windows, persisted, and replayable.

Results "at" a moment count the units exposed at or before it and the metric windows that had
ended by then. Windows are keyed by the server's receive time, so an ended window never changes:
asking again for the same moment later (a replay) gives the same document. Each computation
"now" is stored; a replay is not, and says whether it matches what was stored for that moment.

A computation locks the experiment (``FOR UPDATE``) before it reads the clock; recording batches
hold it in share mode and read the clock once they hold it. So a computation waits for the
batches in flight, and any batch it did not count is stamped after the moment it reports
(docs/experiments.md, "What is guaranteed").
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rheostat.errors import ValidationError
from rheostat.experiments.documents import results_document
from rheostat.experiments.model import Experiment, MetricKind
from rheostat.inputs import validate_lookup
from rheostat.service.experiments import existing_experiment
from rheostat.store.records import StoredResults
from rheostat.store.repositories import ArmExposures, WindowTotals
from rheostat.store.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from rheostat.experiments.analysis import ArmData, ExperimentResults

__all__ = ["ResultsReport", "experiment_results", "list_experiment_results", "load_analysis"]

_MAX_LIMIT = 1000


@dataclass(frozen=True, slots=True, kw_only=True)
class ResultsReport:
    """One results computation.

    Attributes:
        experiment: the experiment as it is now (status, arms, metrics).
        results: the analysis (``valid``, ``significant``, comparisons, SRM...).
        document: ``results`` as the JSON document that is stored and served.
        computed_at: when it was computed.
        replayed: ``True`` when asked for a past moment (``at``): nothing was stored.
        stored_id: the stored computation: this one, or for a replay the latest one stored
            for the same moment (``None`` if there is none).
        matches_stored: for a replay with a stored computation, whether the documents agree.
    """

    environment: str
    experiment: Experiment
    results: ExperimentResults
    document: Mapping[str, Any]
    computed_at: datetime
    replayed: bool
    stored_id: int | None
    matches_stored: bool | None = None


def experiment_results(
    uow: UnitOfWork, environment: str, key: str, *, at: datetime | None = None
) -> ResultsReport:
    """Compute the results now and store them, or replay them as they were at ``at``.

    Raises:
        NotFound. ValidationError: ``at`` is not timezone-aware, or is in the future.
    """
    validate_lookup(environment=environment, experiment=key)
    load_analysis()  # before the lock: importing scipy must not hold up recording batches
    # Wait for the recording batches in flight (they hold the experiment FOR SHARE) and
    # keep new ones out until this commits; only then read the time. Every batch counted
    # committed before, every later one is stamped later: a replay of ``now`` agrees.
    current = existing_experiment(uow, environment, key, lock=True)
    moment = uow.now if at is None else _checked_moment(at, now=uow.now)
    exposures = uow.experiments.exposures_by_arm(current, at=moment)
    windows = uow.experiments.window_totals(current, at=moment)
    results = _analyze(current.experiment, exposures, windows, at=moment)
    document = results_document(environment, current.experiment, results)
    report = ResultsReport(
        environment=environment,
        experiment=current.experiment,
        results=results,
        document=document,
        computed_at=uow.now,
        replayed=at is not None,
        stored_id=None,
    )
    if at is None:
        stored = uow.experiments.add_results(current, document, at=moment, computed_at=uow.now)
        return replace(report, stored_id=stored.id)
    earlier = uow.experiments.list_results(current, limit=1, at=moment)
    if not earlier:
        return report
    matches = dict(earlier[0].document) == document
    return replace(report, stored_id=earlier[0].id, matches_stored=matches)


def load_analysis() -> None:
    """Import the statistics the results need (scipy), if this process has not yet.

    The import is heavy (about 1 s on a warm disk, far more on a cold or busy one), so it is
    deferred until results are first asked for, keeping the CLI quick to start. It runs before
    the experiment is locked: otherwise every recording batch of the experiment waits for the
    import. A server calls it at start-up, so that no request pays for it.
    """
    importlib.import_module("rheostat.experiments.analysis")


def list_experiment_results(
    uow: UnitOfWork, environment: str, key: str, *, limit: int = 20
) -> list[StoredResults]:
    """Return the stored computations of the experiment, newest first.

    Raises:
        NotFound. ValidationError: ``limit`` outside 1..1000.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= _MAX_LIMIT:
        raise ValidationError(
            f"limit must be an integer from 1 to {_MAX_LIMIT}, got {limit!r}",
            details={"field": "limit"},
        )
    validate_lookup(environment=environment, experiment=key)
    current = existing_experiment(uow, environment, key)
    return uow.experiments.list_results(current, limit=limit)


def arm_data(
    experiment: Experiment,
    exposures: Mapping[str, ArmExposures],
    windows: Mapping[tuple[str, str], WindowTotals],
) -> dict[str, ArmData]:
    """Build the analysis input of every arm from stored exposures and window totals.

    Mean metrics are the windows' sums; a proportion metric has ``n`` = the arm's exposed units
    and ``successes`` = its conversions (declared proportion metrics appear even at zero).
    """
    from rheostat.experiments.analysis import ArmData  # scipy is heavy: load it when needed
    from rheostat.stats import ProportionStats, SampleStats

    arms: dict[str, ArmData] = {}
    proportions = [s.name for s in experiment.metrics if s.kind is MetricKind.PROPORTION]
    for arm in experiment.arms:
        exposed = exposures.get(arm.name, ArmExposures(units=0, commits=frozenset()))
        metrics: dict[str, SampleStats | ProportionStats] = {
            name: ProportionStats(n=exposed.units, successes=0) for name in proportions
        }
        for (arm_name, metric), totals in windows.items():
            if arm_name != arm.name:
                continue
            if experiment.metric(metric).kind is MetricKind.PROPORTION:
                metrics[metric] = ProportionStats(n=exposed.units, successes=totals.n)
            else:
                metrics[metric] = SampleStats(totals.n, totals.sum, totals.sum_squares)
        arms[arm.name] = ArmData(
            name=arm.name, units=exposed.units, metrics=metrics, commits=exposed.commits
        )
    return arms


def _analyze(
    experiment: Experiment,
    exposures: Mapping[str, ArmExposures],
    windows: Mapping[tuple[str, str], WindowTotals],
    *,
    at: datetime,
) -> ExperimentResults:
    from rheostat.experiments.analysis import analyze  # scipy is heavy: load it when needed

    return analyze(experiment, arm_data(experiment, exposures, windows), at=at)


def _checked_moment(at: datetime, *, now: datetime) -> datetime:
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise ValidationError(
            f"at must be a timezone-aware time (e.g. 2026-01-01T12:00:00Z), got {at!r}",
            details={"field": "at"},
        )
    if at > now:
        raise ValidationError(
            f"at ({at.isoformat()}) is in the future (now {now.isoformat()}): results can only"
            " be replayed for moments that have passed",
            details={"field": "at"},
        )
    return at.astimezone(UTC)
