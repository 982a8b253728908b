"""Metric windows: added up on arrival, deduplicated by window id, summed for the gates.

A mean window's quantile sketch is stored as one row per bin (``metric_window_bins``) whose
count an upsert adds to, so sketches from many processes merge in the database, exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from rheostat.metrics import MetricWindow, QuantileSketch, WindowKind, WindowTotals
from rheostat.store.repositories._dialect import dialect_insert
from rheostat.store.repositories.environments import EnvironmentRepository
from rheostat.store.tables import MetricWindowBinRow, MetricWindowIdRow, MetricWindowRow

__all__ = ["MetricRepository"]

_WINDOWS: Table = MetricWindowRow.__table__  # type: ignore[assignment]
_IDS: Table = MetricWindowIdRow.__table__  # type: ignore[assignment]
_BINS: Table = MetricWindowBinRow.__table__  # type: ignore[assignment]
_KEY = ["environment_id", "flag", "metric", "variant", "kind", "window_start", "seconds"]
_BIN_KEY = ["environment_id", "flag", "metric", "variant", "window_start", "seconds", "sign", "bin"]
_ZERO, _POSITIVE, _NEGATIVE = 0, 1, -1


class MetricRepository:
    """Reads and writes ``metric_windows`` and ``metric_window_ids`` in one session."""

    def __init__(self, session: Session, environments: EnvironmentRepository) -> None:
        self._session = session
        self._environments = environments

    def claim_ids(self, environment: str, ids: Iterable[str], *, at: datetime) -> set[str]:
        """Record window ids; return those not seen before (the windows to count)."""
        environment_id = self._environments.id_of(environment)
        rows = [
            {"environment_id": environment_id, "window_id": window_id, "received_at": at}
            for window_id in dict.fromkeys(ids)
        ]
        if not rows:
            return set()
        insert = dialect_insert(self._session, _IDS).on_conflict_do_nothing(
            index_elements=["environment_id", "window_id"]
        )
        return {row[0] for row in self._session.execute(insert.returning(_IDS.c.window_id), rows)}

    def add(self, environment: str, windows: Sequence[MetricWindow]) -> None:
        """Add each window's statistics to the stored window with the same key (upsert)."""
        environment_id = self._environments.id_of(environment)
        rows = _added_up(_row(environment_id, window) for window in windows)
        if not rows:
            return
        insert = dialect_insert(self._session, _WINDOWS)
        excluded = insert.excluded
        upsert = insert.on_conflict_do_update(
            index_elements=_KEY,
            set_={
                "n": _WINDOWS.c.n + excluded.n,
                "sum": _WINDOWS.c.sum + excluded.sum,
                "sum_squares": _WINDOWS.c.sum_squares + excluded.sum_squares,
            },
        )
        self._session.execute(upsert, rows)
        self._add_bins(environment_id, windows)

    def _add_bins(self, environment_id: int, windows: Sequence[MetricWindow]) -> None:
        counts: dict[tuple[object, ...], int] = {}
        for window in windows:
            if window.sketch is None:
                continue
            where = (environment_id, window.flag, window.metric, window.variant, window.start)
            for sign, index, count in _bins_of(window.sketch):
                key = (*where, window.seconds, sign, index)
                counts[key] = counts.get(key, 0) + count
        if not counts:
            return
        rows = [{**dict(zip(_BIN_KEY, key, strict=True)), "count": n} for key, n in counts.items()]
        insert = dialect_insert(self._session, _BINS)
        upsert = insert.on_conflict_do_update(
            index_elements=_BIN_KEY, set_={"count": _BINS.c.count + insert.excluded.count}
        )
        self._session.execute(upsert, rows)

    def totals(
        self,
        environment: str,
        flag: str,
        metric: str,
        *,
        since: datetime,
        until: datetime,
        sketches: bool = False,
    ) -> dict[tuple[str, WindowKind], WindowTotals]:
        """Sum the windows that start in ``[since, until)``, per variant and kind; with
        ``sketches``, merge the mean windows' quantile sketches too (a read of their bins)."""
        row = MetricWindowRow
        statement = (
            select(
                row.variant, row.kind, func.sum(row.n), func.sum(row.sum), func.sum(row.sum_squares)
            )
            .where(
                row.environment_id == self._environments.id_of(environment),
                row.flag == flag,
                row.metric == metric,
                row.window_start >= since,
                row.window_start < until,
            )
            .group_by(row.variant, row.kind)
        )
        found = {
            (variant, WindowKind(kind)): WindowTotals(
                kind=WindowKind(kind), n=int(n), sum=float(total), sum_squares=float(squares)
            )
            for variant, kind, n, total, squares in self._session.execute(statement)
        }
        if not sketches:
            return found
        merged = self._sketches(environment, flag, metric, since=since, until=until)
        return {
            key: replace(totals, sketch=merged.get(key[0])) if key[1] is WindowKind.MEAN else totals
            for key, totals in found.items()
        }

    def _sketches(
        self, environment: str, flag: str, metric: str, *, since: datetime, until: datetime
    ) -> dict[str, QuantileSketch]:
        row = MetricWindowBinRow
        statement = (
            select(row.variant, row.sign, row.bin, func.sum(row.count))
            .where(
                row.environment_id == self._environments.id_of(environment),
                row.flag == flag,
                row.metric == metric,
                row.window_start >= since,
                row.window_start < until,
            )
            .group_by(row.variant, row.sign, row.bin)
        )
        sketches: dict[str, QuantileSketch] = {}
        for variant, sign, index, count in self._session.execute(statement):
            sketch = sketches.setdefault(variant, QuantileSketch())
            if sign == _ZERO:
                sketch.zeros += int(count)
            else:
                bins = sketch.positive if sign == _POSITIVE else sketch.negative
                bins[int(index)] = int(count)
        return sketches


def _bins_of(sketch: QuantileSketch) -> list[tuple[int, int, int]]:
    """``(sign, bin, count)`` rows of a sketch."""
    rows = [(_POSITIVE, index, count) for index, count in sketch.positive.items()]
    rows += [(_NEGATIVE, index, count) for index, count in sketch.negative.items()]
    if sketch.zeros:
        rows.append((_ZERO, 0, sketch.zeros))
    return rows


def _row(environment_id: int, window: MetricWindow) -> dict[str, object]:
    totals = window.totals
    return {
        "environment_id": environment_id,
        "flag": window.flag,
        "metric": window.metric,
        "variant": window.variant,
        "kind": window.kind.value,
        "window_start": window.start,
        "seconds": window.seconds,
        "n": totals.n,
        "sum": totals.sum,
        "sum_squares": totals.sum_squares,
    }


def _added_up(rows: Iterable[dict[str, object]]) -> list[dict[str, object]]:
    """One row per key (PostgreSQL's upsert may not touch a row twice in one statement)."""
    merged: dict[tuple[object, ...], dict[str, object]] = {}
    for row in rows:
        key = tuple(row[column] for column in _KEY)
        if key not in merged:
            merged[key] = dict(row)
            continue
        kept = merged[key]
        for column in ("n", "sum", "sum_squares"):
            kept[column] = kept[column] + row[column]  # type: ignore[operator]
    return list(merged.values())
