"""``ABTestManager``: seed 001's A/B testing API on top of rheostat's experiments.

```python
manager = ABTestManager(database_url="postgresql://...", environment="production")
test = manager.create_test(
    test_id="biobert_vs_pubmedbert",
    description="Compare NER models",
    control_component="biobert",
    treatment_component="pubmedbert",
    traffic_split=0.5,
    duration_days=7,
    tracked_metrics=[MetricSpec(name="latency", higher_is_better=False), "accuracy"],
)
await manager.start_test(test.test_id)
variant = manager.get_variant(test.test_id, user_id="user123")   # TestVariant.CONTROL / .TREATMENT
manager.record_metric(test.test_id, variant, "latency", 150.0)
results = manager.get_test_results(test.test_id)
if results.valid and results.significant:
    print(f"Improvement: {results.improvement}")
await manager.stop_test(test.test_id)
```

Differences from the seed, all deliberate:

* ``start_test`` and ``stop_test`` are async, as the seed awaits them: always ``await`` them
  (or hand them to ``asyncio.run``/``gather``). Called without ``await`` they do nothing, so
  that is logged as an ERROR and the manager's next call raises ``ConfigurationError``.
  Everything else is synchronous. Each call is one database transaction (services and SDKs
  record in batches).
* The seed's positional ``(flag_manager, metrics_collector)`` are accepted and not used:
  assignment uses the experiment's own salted flags, and metrics go to the store.
* Results count 1-minute windows that have ended (so they can be replayed exactly): values
  recorded in the current minute appear once it is over.
* ``improvement`` is positive when the treatment is better in the metric's direction; name
  metrics where lower is better with ``MetricSpec(name=..., higher_is_better=False)``.
* A result is ``significant`` only when it is also ``valid`` (same commit on both arms, no
  sample-ratio mismatch, enough data); ``invalid_reasons`` says why not.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from rheostat.clock import Clock
from rheostat.errors import AlreadyExists, ConfigurationError, NotFound, ValidationError
from rheostat.experiments.model import Arm, Experiment, ExperimentStatus, MetricSpec
from rheostat.facade.awaited import AwaitedCall
from rheostat.service import (
    Change,
    Conversion,
    ExperimentRecord,
    MetricEvent,
    ResultsReport,
    SqlStore,
    assign_unit,
    create_environment,
    create_experiment,
    experiment_results,
    get_environment,
    get_experiment,
    migrate_database,
    open_store,
    record_conversions,
    record_metrics,
    start_experiment,
    stop_experiment,
)
from rheostat.settings import Settings

if TYPE_CHECKING:
    from rheostat.experiments.analysis import ArmSummary, ExperimentResults, MetricResult
    from rheostat.stats import SRMResult

__all__ = ["ABTest", "ABTestManager", "TestResults", "TestVariant"]

_PERCENT = 100
_LOGGER = logging.getLogger(__name__)


class TestVariant(StrEnum):
    """The seed's two variants (the arm names ``ABTestManager`` creates)."""

    __test__ = False  # not a pytest test class, whatever its name

    CONTROL = "control"
    TREATMENT = "treatment"


_VARIANTS = frozenset(variant.value for variant in TestVariant)


@dataclass(frozen=True, slots=True, kw_only=True)
class ABTest:
    """A test as the seed shows it (``test.test_id``)."""

    test_id: str
    description: str
    control_component: str
    treatment_component: str
    traffic_split: float
    duration_days: float | None
    tracked_metrics: tuple[str, ...]
    status: ExperimentStatus
    created_at: datetime | None
    started_at: datetime | None
    stopped_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class TestResults:
    """What ``get_test_results`` returns: the seed's fields and the full analysis.

    Attributes:
        control_mean, treatment_mean: metric -> mean in that arm (``None`` without data).
        improvement: metric -> relative lift of the treatment, positive when better.
        p_values: metric -> p-value of the difference.
        significant: valid, and some metric differs significantly.
        valid: same commit on both arms, no sample-ratio mismatch, enough data.
        invalid_reasons: why not valid (``arms_on_different_commits``,
            ``sample_ratio_mismatch``, ``too_little_data``).
        control, treatment: per-arm units and, per metric, n, mean and confidence interval.
        comparisons: metric -> absolute and relative effect with CI and p-value.
        srm: the sample-ratio mismatch test.
        results: the whole analysis; document: it as stored (JSON).
    """

    __test__: ClassVar[bool] = False  # not a pytest test class, whatever its name

    test_id: str
    at: datetime
    control_mean: dict[str, float | None]
    treatment_mean: dict[str, float | None]
    improvement: dict[str, float | None]
    p_values: dict[str, float | None]
    significant: bool
    valid: bool
    invalid_reasons: tuple[str, ...]
    control: ArmSummary
    treatment: ArmSummary
    comparisons: dict[str, MetricResult]
    srm: SRMResult
    results: ExperimentResults
    document: Mapping[str, Any]


class ABTestManager:
    """Seed 001's ``ABTestManager``, backed by the rheostat store.

    ``ABTestManager(database_url=...)`` migrates that database and opens it;
    ``ABTestManager(store=...)`` uses an open ``SqlStore``; with neither, the database named by
    ``RHEOSTAT_DATABASE_URL`` (default ``sqlite:///./rheostat.db``). The environment is created
    if needed. Changes are audited as ``actor``; exposures carry ``commit_sha`` (the running
    code's commit), which makes results with arms on different commits invalid.
    """

    def __init__(  # noqa: PLR0913  # the seed's two positionals, then keyword-only options
        self,
        flag_manager: object = None,
        metrics_collector: object = None,
        *,
        database_url: str | None = None,
        store: SqlStore | None = None,
        environment: str = "production",
        actor: str = "ab-test-manager",
        commit_sha: str | None = None,
        clock: Clock | None = None,
    ) -> None:
        del flag_manager, metrics_collector  # the seed's collaborators: not needed here
        if database_url is not None and store is not None:
            raise ConfigurationError("give database_url or store, not both")
        self._store = store if store is not None else _migrated(database_url, clock)
        self._owns_store = store is None
        self._environment = environment
        self._actor = actor
        self._commit_sha = commit_sha
        self._forgotten: list[str] = []
        self._forgotten_lock = threading.Lock()
        _ensure_environment(self._store, environment, actor)

    def create_test(  # noqa: PLR0913  # the seed's signature, kept for drop-in use
        self,
        test_id: str,
        description: str = "",
        control_component: str = "control",
        treatment_component: str = "treatment",
        traffic_split: float = 0.5,
        duration_days: float | None = 7,
        tracked_metrics: Iterable[str | MetricSpec] = (),
    ) -> ABTest:
        """Create a draft test; ``traffic_split`` is the treatment's share (0 < split < 1).

        Raises:
            ValidationError: a bad id, split, duration or metric. AlreadyExists.
        """
        self._refuse_forgotten_awaits()
        experiment = Experiment(
            key=test_id,
            arms=_arms(traffic_split, control_component, treatment_component),
            metrics=tuple(_spec(metric) for metric in tracked_metrics),
            description=description,
            duration_days=duration_days,
        )
        with self._store.unit_of_work() as uow:
            record = create_experiment(
                uow,
                self._environment,
                experiment,
                change=Change(actor=self._actor, reason="create_test"),
            )
        return _test(record)

    def start_test(self, test_id: str) -> Coroutine[Any, Any, ABTest]:
        """Start assigning users and recording metrics: async, ``await manager.start_test(id)``.

        Called without ``await`` nothing starts: that is logged as an ERROR, and the manager's
        next call raises ``ConfigurationError``.

        Raises:
            NotFound, Conflict (when awaited). ConfigurationError: an earlier call was not
            awaited.
        """
        self._refuse_forgotten_awaits()
        work = self._changed(start_experiment, test_id)
        return AwaitedCall(work, forgotten=self._forgot, call=f"start_test({test_id!r})")

    def stop_test(self, test_id: str) -> Coroutine[Any, Any, ABTest]:
        """Stop for good (everyone gets control, nothing more is recorded): async, like
        ``start_test``, and a forgotten ``await`` is reported the same way."""
        self._refuse_forgotten_awaits()
        work = self._changed(stop_experiment, test_id)
        return AwaitedCall(work, forgotten=self._forgot, call=f"stop_test({test_id!r})")

    async def _changed(self, operation: Callable[..., ExperimentRecord], test_id: str) -> ABTest:
        record = await asyncio.to_thread(self._in_transaction, operation, test_id)
        return _test(record)

    def _forgot(self, call: str) -> None:
        effect = "started" if call.startswith("start") else "stopped"
        message = (
            f"ABTestManager.{call} was called without await: the test was not {effect};"
            f" write `await manager.{call}`"
        )
        _LOGGER.error(message)
        with self._forgotten_lock:
            self._forgotten.append(message)

    def _refuse_forgotten_awaits(self) -> None:
        """Raise (once) for the calls that were never awaited since the last check."""
        with self._forgotten_lock:
            forgotten, self._forgotten = self._forgotten, []
        if forgotten:
            more = f" (and {len(forgotten) - 1} more)" if len(forgotten) > 1 else ""
            raise ConfigurationError(forgotten[0] + more, details={"calls": forgotten})

    def get_test(self, test_id: str) -> ABTest:
        """Return the test. Raises ``NotFound``."""
        self._refuse_forgotten_awaits()
        with self._store.reading() as uow:
            return _test(get_experiment(uow, self._environment, test_id))

    def get_variant(self, test_id: str, user_id: str) -> str | None:
        """Return the user's variant (the same on every call), recording the exposure.

        A test that is not running gives ``TestVariant.CONTROL`` and records nothing. ``None``
        when the test's coverage leaves the user out.
        """
        self._refuse_forgotten_awaits()
        with self._store.unit_of_work() as uow:
            arm = assign_unit(
                uow, self._environment, test_id, str(user_id), commit_sha=self._commit_sha
            ).arm
        return TestVariant(arm) if arm in _VARIANTS else arm

    def record_metric(
        self, test_id: str, variant: str, metric: str, value: float, *, event_id: str | None = None
    ) -> bool:
        """Record one observation of ``metric`` in ``variant``; ``False`` for a repeated id.

        Raises:
            Conflict: the test is not running. ValidationError: unknown variant or metric.
        """
        self._refuse_forgotten_awaits()
        event = MetricEvent(arm=str(variant), metric=metric, value=value, event_id=event_id)
        with self._store.unit_of_work() as uow:
            receipt = record_metrics(uow, self._environment, test_id, [event])
        return receipt.recorded == 1

    def record_conversion(self, test_id: str, user_id: str, metric: str) -> bool:
        """Count ``user_id`` (already exposed) as converted on a proportion metric, once."""
        self._refuse_forgotten_awaits()
        conversion = Conversion(unit=str(user_id), metric=metric)
        with self._store.unit_of_work() as uow:
            receipt = record_conversions(uow, self._environment, test_id, [conversion])
        return receipt.recorded == 1

    def get_test_results(self, test_id: str) -> TestResults:
        """Compute (and store) the results now. Raises ``NotFound``."""
        self._refuse_forgotten_awaits()
        with self._store.unit_of_work() as uow:
            return _results(experiment_results(uow, self._environment, test_id))

    def _in_transaction(
        self, operation: Callable[..., ExperimentRecord], test_id: str
    ) -> ExperimentRecord:
        with self._store.unit_of_work() as uow:
            return operation(uow, self._environment, test_id, change=Change(actor=self._actor))

    def close(self) -> None:
        """Release the database connections this manager opened (not a store passed in)."""
        if self._owns_store:
            self._store.close()


def _migrated(database_url: str | None, clock: Clock | None) -> SqlStore:
    url = database_url if database_url is not None else Settings().database_url
    migrate_database(url)
    return open_store(url, clock=clock)


def _ensure_environment(store: SqlStore, environment: str, actor: str) -> None:
    try:
        with store.reading() as uow:
            get_environment(uow, environment)
    except NotFound:
        with (
            contextlib.suppress(AlreadyExists),
            store.unit_of_work() as uow,
        ):  # another process created it meanwhile
            create_environment(uow, environment, change=Change(actor=actor, reason="ABTestManager"))


def _arms(split: object, control: str, treatment: str) -> tuple[Arm, Arm]:
    if isinstance(split, bool) or not isinstance(split, int | float) or not 0 < split < 1:
        raise ValidationError(
            f"traffic_split is the treatment's share and must be between 0 and 1, got {split!r}",
            details={"field": "traffic_split"},
        )
    treatment_percent = round(split * _PERCENT, 3)
    return (
        Arm(
            name=TestVariant.CONTROL, weight_percent=_PERCENT - treatment_percent, component=control
        ),
        Arm(name=TestVariant.TREATMENT, weight_percent=treatment_percent, component=treatment),
    )


def _spec(metric: str | MetricSpec) -> MetricSpec:
    return metric if isinstance(metric, MetricSpec) else MetricSpec(name=metric)


def _test(record: ExperimentRecord) -> ABTest:
    experiment = record.experiment
    control, treatment = experiment.arms[0], experiment.arms[1]
    return ABTest(
        test_id=experiment.key,
        description=experiment.description,
        control_component=control.component,
        treatment_component=treatment.component,
        traffic_split=treatment.weight_percent / _PERCENT,
        duration_days=experiment.duration_days,
        tracked_metrics=tuple(spec.name for spec in experiment.metrics),
        status=experiment.status,
        created_at=experiment.created_at,
        started_at=experiment.started_at,
        stopped_at=experiment.stopped_at,
    )


def _results(report: ResultsReport) -> TestResults:
    results = report.results
    control, treatment = results.arms[0], results.arms[1]
    comparisons = {r.metric: r for r in results.comparisons if r.arm == treatment.name}
    metrics = sorted({*comparisons, *(spec.name for spec in report.experiment.metrics)})
    return TestResults(
        test_id=results.experiment,
        at=results.at,
        control_mean={m: results.mean_of(control.name, m) for m in metrics},
        treatment_mean={m: results.mean_of(treatment.name, m) for m in metrics},
        improvement={m: r.improvement for m, r in comparisons.items()},
        p_values={m: r.absolute.p_value for m, r in comparisons.items()},
        significant=results.significant,
        valid=results.valid,
        invalid_reasons=results.invalid_reasons,
        control=control,
        treatment=treatment,
        comparisons=comparisons,
        srm=results.srm,
        results=results,
        document=report.document,
    )
