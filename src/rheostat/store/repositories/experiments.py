"""Experiments, their exposures, metric windows, conversions, event ids and stored results.

Traffic is written with ``INSERT ... ON CONFLICT`` (SQLite and PostgreSQL dialect inserts), so a
retried batch, or two replicas receiving the same one, never counts anything twice: a unit is
exposed once, converts once per metric, an event id is counted once, and a metric window is one
row whose ``n``, ``sum`` and ``sum_squares`` grow by addition.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import Table, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rheostat.errors import AlreadyExists, NotFound
from rheostat.experiments.model import Experiment, ExperimentStatus
from rheostat.store.mappers import experiment_definition, to_experiment, to_stored_results
from rheostat.store.records import ExperimentRecord, StoredResults
from rheostat.store.repositories._dialect import dialect_insert
from rheostat.store.repositories.environments import EnvironmentRepository
from rheostat.store.tables import (
    ExperimentConversionRow,
    ExperimentEventIdRow,
    ExperimentExposureRow,
    ExperimentResultRow,
    ExperimentRow,
    ExperimentWindowRow,
)

__all__ = ["ArmExposures", "ExperimentRepository", "WindowTotals"]

_CHUNK = 500
"""Rows per multi-row statement: far below SQLite's and PostgreSQL's parameter limits."""
Item = TypeVar("Item")

# Core tables, for the dialect inserts (mapped classes type ``__table__`` as a bare FromClause).
_EXPOSURES = cast(Table, ExperimentExposureRow.__table__)
_WINDOWS = cast(Table, ExperimentWindowRow.__table__)
_CONVERSIONS = cast(Table, ExperimentConversionRow.__table__)
_EVENT_IDS = cast(Table, ExperimentEventIdRow.__table__)


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowTotals:
    """Sufficient statistics to add to (or read from) the windows of one arm and metric."""

    n: int
    sum: float
    sum_squares: float


@dataclass(frozen=True, slots=True, kw_only=True)
class ArmExposures:
    """Units exposed in one arm, and the commits they were served from."""

    units: int
    commits: frozenset[str]


class ExperimentRepository:
    """Reads and writes the experiment tables in one session."""

    def __init__(self, session: Session, environments: EnvironmentRepository) -> None:
        self._session = session
        self._environments = environments
        self._ids: dict[tuple[str, str], int] = {}

    # The experiment ---------------------------------------------------------------------------

    def find(
        self, environment: str, key: str, *, lock: bool = False, share: bool = False
    ) -> ExperimentRecord | None:
        """Return the experiment, or ``None``.

        ``lock`` holds its row until commit against every other writer; ``share`` only against
        changes of the experiment (PostgreSQL ``FOR SHARE``), so that recording traffic never
        overlaps a stop while many recorders run side by side.
        """
        statement = select(ExperimentRow).where(
            ExperimentRow.environment_id == self._environments.id_of(environment),
            ExperimentRow.key == key,
        )
        if lock or share:
            statement = statement.with_for_update(read=share and not lock)
        row = self._session.scalar(statement)
        if row is None:
            return None
        self._ids[(environment, key)] = row.id
        return to_experiment(row, environment)

    def list(
        self, environment: str, *, status: ExperimentStatus | None = None
    ) -> builtins.list[ExperimentRecord]:
        """Return the environment's experiments, sorted by key."""
        statement = (
            select(ExperimentRow)
            .where(ExperimentRow.environment_id == self._environments.id_of(environment))
            .order_by(ExperimentRow.key)
        )
        if status is not None:
            statement = statement.where(ExperimentRow.status == status.value)
        return [to_experiment(row, environment) for row in self._session.scalars(statement)]

    def add(self, environment: str, experiment: Experiment, *, at: datetime) -> ExperimentRecord:
        """Insert a new experiment at version 1. Raises ``AlreadyExists``."""
        row = ExperimentRow(
            environment_id=self._environments.id_of(environment),
            key=experiment.key,
            definition=experiment_definition(experiment),
            status=experiment.status.value,
            version=1,
            created_at=at,
            updated_at=at,
            started_at=experiment.started_at,
            stopped_at=experiment.stopped_at,
        )
        self._session.add(row)
        try:
            self._session.flush()
        except IntegrityError as error:
            raise AlreadyExists(
                f"experiment {experiment.key!r} already exists in {environment!r}",
                details={"environment": environment, "experiment": experiment.key},
            ) from error
        self._ids[(environment, experiment.key)] = row.id
        return to_experiment(row, environment)

    def save(self, environment: str, experiment: Experiment, *, at: datetime) -> ExperimentRecord:
        """Write ``experiment`` as the next version (load it with ``lock`` first)."""
        row = self._session.get_one(ExperimentRow, self._id(environment, experiment.key))
        row.definition = experiment_definition(experiment)
        row.status = experiment.status.value
        row.started_at = experiment.started_at
        row.stopped_at = experiment.stopped_at
        row.version = row.version + 1
        row.updated_at = at
        self._session.flush()
        return to_experiment(row, environment)

    # Traffic ----------------------------------------------------------------------------------

    def add_exposures(
        self,
        record: ExperimentRecord,
        exposures: Sequence[tuple[str, str, str | None]],
        *,
        at: datetime,
    ) -> set[str]:
        """Insert ``(unit, arm, commit_sha)`` exposures; return the units that were new."""
        experiment_id = self._id(record.environment, record.key)
        rows = [
            {"experiment_id": experiment_id, "unit": u, "arm": a, "commit_sha": c, "first_seen": at}
            for u, a, c in exposures
        ]
        new = self._insert_new(_EXPOSURES, rows, ("experiment_id", "unit"), _EXPOSURES.c.unit)
        return set(new)

    def arms_of(self, record: ExperimentRecord, units: Iterable[str]) -> dict[str, str]:
        """Return the arm of each of ``units`` that has been exposed."""
        experiment_id = self._id(record.environment, record.key)
        found: dict[str, str] = {}
        for chunk in _chunks(sorted(set(units))):
            statement = select(ExperimentExposureRow.unit, ExperimentExposureRow.arm).where(
                ExperimentExposureRow.experiment_id == experiment_id,
                ExperimentExposureRow.unit.in_(chunk),
            )
            found.update((unit, arm) for unit, arm in self._session.execute(statement))
        return found

    def claim_event_ids(
        self, record: ExperimentRecord, event_ids: Iterable[str], *, at: datetime
    ) -> set[str]:
        """Record metric event ids; return those not seen before (the events to count)."""
        experiment_id = self._id(record.environment, record.key)
        rows = [
            {"experiment_id": experiment_id, "event_id": event_id, "received_at": at}
            for event_id in dict.fromkeys(event_ids)
        ]
        unique = ("experiment_id", "event_id")
        return set(self._insert_new(_EVENT_IDS, rows, unique, _EVENT_IDS.c.event_id))

    def add_conversions(
        self, record: ExperimentRecord, conversions: Sequence[tuple[str, str, str]], *, at: datetime
    ) -> set[tuple[str, str]]:
        """Insert ``(metric, unit, arm)`` conversions; return the new ``(metric, unit)`` pairs."""
        experiment_id = self._id(record.environment, record.key)
        rows = [
            {"experiment_id": experiment_id, "metric": m, "unit": u, "arm": a, "converted_at": at}
            for m, u, a in conversions
        ]
        unique = ("experiment_id", "metric", "unit")
        columns = (_CONVERSIONS.c.metric, _CONVERSIONS.c.unit)
        return set(self._insert_new(_CONVERSIONS, rows, unique, *columns))

    def add_to_windows(
        self,
        record: ExperimentRecord,
        totals: Mapping[tuple[str, str], WindowTotals],
        *,
        window: tuple[datetime, datetime],
    ) -> None:
        """Add ``totals`` per ``(arm, metric)`` to the window ``(start, end)`` (upsert)."""
        experiment_id = self._id(record.environment, record.key)
        start, end = window
        rows = [
            {
                "experiment_id": experiment_id, "arm": arm, "metric": metric,
                "window_start": start, "window_end": end,
                "n": t.n, "sum": t.sum, "sum_squares": t.sum_squares,
            }
            for (arm, metric), t in sorted(totals.items())
        ]  # fmt: skip
        table = _WINDOWS
        if not rows:
            return
        insert = dialect_insert(self._session, table)
        excluded = insert.excluded
        upsert = insert.on_conflict_do_update(
            index_elements=["experiment_id", "arm", "metric", "window_start"],
            set_={
                "n": table.c.n + excluded.n,
                "sum": table.c.sum + excluded.sum,
                "sum_squares": table.c.sum_squares + excluded.sum_squares,
            },
        )
        self._session.execute(upsert, rows)

    # Reading traffic --------------------------------------------------------------------------

    def exposures_by_arm(
        self, record: ExperimentRecord, *, at: datetime
    ) -> dict[str, ArmExposures]:
        """Return units and commits per arm, counting exposures first seen at or before ``at``."""
        experiment_id = self._id(record.environment, record.key)
        seen = (
            ExperimentExposureRow.experiment_id == experiment_id,
            ExperimentExposureRow.first_seen <= at,
        )
        counts = self._session.execute(
            select(ExperimentExposureRow.arm, func.count())
            .where(*seen)
            .group_by(ExperimentExposureRow.arm)
        )
        commits = self._session.execute(
            select(ExperimentExposureRow.arm, ExperimentExposureRow.commit_sha)
            .where(*seen, ExperimentExposureRow.commit_sha.is_not(None))
            .distinct()
        )
        by_arm: dict[str, set[str]] = {}
        for arm, commit in commits:
            if commit is not None:
                by_arm.setdefault(arm, set()).add(commit)
        return {
            arm: ArmExposures(units=int(units), commits=frozenset(by_arm.get(arm, ())))
            for arm, units in counts
        }

    def window_totals(
        self, record: ExperimentRecord, *, at: datetime
    ) -> dict[tuple[str, str], WindowTotals]:
        """Return totals per ``(arm, metric)`` over the windows that ended at or before ``at``.

        Sums are exactly rounded (``math.fsum``), so they do not depend on row order.
        """
        experiment_id = self._id(record.environment, record.key)
        rows = self._session.execute(
            select(
                ExperimentWindowRow.arm,
                ExperimentWindowRow.metric,
                ExperimentWindowRow.n,
                ExperimentWindowRow.sum,
                ExperimentWindowRow.sum_squares,
            )
            .where(
                ExperimentWindowRow.experiment_id == experiment_id,
                ExperimentWindowRow.window_end <= at,
            )
            .order_by(ExperimentWindowRow.window_start)
        )
        grouped: dict[tuple[str, str], list[tuple[int, float, float]]] = {}
        for arm, metric, n, total, squares in rows:
            grouped.setdefault((arm, metric), []).append((n, total, squares))
        return {key: _summed(values) for key, values in sorted(grouped.items())}

    # Stored results ---------------------------------------------------------------------------

    def add_results(
        self,
        record: ExperimentRecord,
        document: Mapping[str, Any],
        *,
        at: datetime,
        computed_at: datetime,
    ) -> StoredResults:
        """Store one results computation."""
        row = ExperimentResultRow(
            experiment_id=self._id(record.environment, record.key),
            at=at,
            computed_at=computed_at,
            document=dict(document),
        )
        self._session.add(row)
        self._session.flush()
        return to_stored_results(row, record.environment, record.key)

    def list_results(
        self, record: ExperimentRecord, *, limit: int, at: datetime | None = None
    ) -> builtins.list[StoredResults]:
        """Return stored results, newest first; only those describing ``at`` when given."""
        statement = (
            select(ExperimentResultRow)
            .where(ExperimentResultRow.experiment_id == self._id(record.environment, record.key))
            .order_by(ExperimentResultRow.id.desc())
            .limit(limit)
        )
        if at is not None:
            statement = statement.where(ExperimentResultRow.at == at)
        rows = self._session.scalars(statement)
        return [to_stored_results(row, record.environment, record.key) for row in rows]

    # Internals --------------------------------------------------------------------------------

    def _id(self, environment: str, key: str) -> int:
        if (environment, key) not in self._ids:
            found = self.find(environment, key)
            if found is None:
                raise NotFound(
                    f"experiment {key!r} does not exist in environment {environment!r}",
                    details={"environment": environment, "experiment": key},
                )
        return self._ids[(environment, key)]

    def _insert_new(
        self,
        table: Table,
        rows: Sequence[Mapping[str, Any]],
        unique: tuple[str, ...],
        *returned: Any,
    ) -> Iterator[Any]:
        """Insert ``rows``, skipping those whose ``unique`` columns exist; yield what was new."""
        if not rows:
            return
        insert = dialect_insert(self._session, table).on_conflict_do_nothing(
            index_elements=list(unique)
        )
        for row in self._session.execute(insert.returning(*returned), list(rows)):
            yield row[0] if len(returned) == 1 else tuple(row)


def _chunks(items: Sequence[Item]) -> Iterator[Sequence[Item]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _summed(values: Sequence[tuple[int, float, float]]) -> WindowTotals:
    return WindowTotals(
        n=sum(int(n) for n, _, _ in values),
        sum=math.fsum(total for _, total, _ in values),
        sum_squares=math.fsum(squares for _, _, squares in values),
    )
