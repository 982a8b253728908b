"""Verify a copy chunk by chunk over the whole key space, and repair the chunks that differ.

``database`` mode sums hashes of each row inside each database (typed values on PostgreSQL,
the row's text on SQLite); ``python`` mode (a transform, or two kinds of database) reads the
rows and hashes them the same way on both sides. The pure planner compares the sums.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import text

from rheostat.backfill import BackfillJob, ChunkSum, compare_chunks, sum_rows
from rheostat.runner.copier import Copier
from rheostat.runner.databases import Databases, reading
from rheostat.runner.reports import VerifyOutcome
from rheostat.runner.sql import SERVER_HASH_DIALECTS, column_types, key_params

__all__ = ["VERIFY_CHUNK_ROWS", "Verifier"]

VERIFY_CHUNK_ROWS = 100_000
"""Rows per verify chunk by default: a difference is reported (and repaired) to this range."""

_Bounds = tuple[tuple[Any, ...] | None, tuple[Any, ...] | None]


class Verifier:
    """Compares ``job``'s source and target; ``transformed``: a transform makes the rows."""

    def __init__(
        self, job: BackfillJob, databases: Databases, *, copier: Copier, transformed: bool
    ) -> None:
        self._job = job
        self._databases = databases
        self._copier = copier
        self._transformed = transformed
        self._types: tuple[str, ...] | None = None

    @property
    def mode(self) -> str:
        """``database`` when both sides compute the same checksum themselves, else ``python``."""
        dialects = {self._databases.source.dialect.name, self._databases.target.dialect.name}
        if not self._transformed and len(dialects) == 1 and dialects <= set(SERVER_HASH_DIALECTS):
            return "database"
        return "python"

    def verify(
        self,
        *,
        repair: bool,
        chunk_rows: int | None,
        on_chunk: Callable[[int], None] | None,
    ) -> VerifyOutcome:
        """One pass over chunks of ``chunk_rows`` source rows; with ``repair``, re-copy the
        differing chunks and sum them again."""
        rows = chunk_rows or VERIFY_CHUNK_ROWS
        # Both sides of each chunk are summed at once, each by its own database, while
        # this thread walks the key space to the next chunk's end.
        with ThreadPoolExecutor(max_workers=2 * self._job.workers) as pool:
            pending = [
                (
                    low,
                    high,
                    pool.submit(self._sum, "source", low, high),
                    pool.submit(self._sum, "target", low, high),
                )
                for low, high in self._chunks(rows)
            ]
            sums = []
            for index, (low, high, source, target) in enumerate(pending):
                sums.append((low, high, source.result(), target.result()))
                if on_chunk is not None:
                    on_chunk(index + 1)
        report = compare_chunks(sums)
        outcome = VerifyOutcome(name=self._job.name, mode=self.mode, report=report)
        if repair and not report.identical:
            differing = {(d.low, d.high) for d in report.differences}
            for low, high in differing:
                self._copier.recopy(low, high)
            again = [
                (low, high, self._sum("source", low, high), self._sum("target", low, high))
                if (low, high) in differing
                else (low, high, source, target)
                for low, high, source, target in sums
            ]
            outcome = VerifyOutcome(
                name=self._job.name,
                mode=self.mode,
                report=report,
                repaired=len(differing),
                after_repair=compare_chunks(again),
            )
        return outcome

    def _chunks(self, rows: int) -> Iterator[_Bounds]:
        """``(low, high]`` ranges of ``rows`` source rows covering the whole key space: the
        first has no lower end and the last no upper end, so a target row outside the source's
        keys falls in one of them too."""
        low: tuple[Any, ...] | None = None
        with reading(self._databases.source) as connection:
            while True:
                high = self._copier.boundary(connection, low, rows)
                yield low, high
                if high is None:
                    break
                low = high

    def _sum(
        self, side: str, low: tuple[Any, ...] | None, high: tuple[Any, ...] | None
    ) -> ChunkSum:
        databases = self._databases
        engine = databases.source if side == "source" else databases.target
        params = key_params(low, high)
        has_low, has_high = low is not None, high is not None
        if self.mode == "database":
            types = self._column_types()
            statement = text(databases.sql.checksum(side, low=has_low, high=has_high, types=types))
            with reading(engine) as connection:
                count, first, second = connection.execute(statement, params).one()
            return ChunkSum(int(count), int(first), int(second))
        if side == "source":
            columns = self._job.target_columns
            rows, _, _ = self._copier.read(None, low, high, limit=None)
            return sum_rows([row[column] for column in columns] for row in rows)
        statement = text(databases.sql.select_target_rows(low=has_low, high=has_high))
        with reading(engine) as connection:
            result = sum_rows(tuple(row) for row in connection.execute(statement, params))
        return result

    def _column_types(self) -> tuple[str, ...] | None:
        """The target columns' types on PostgreSQL (``format_type``), in the columns' order,
        read once; ``None`` elsewhere (rows are then hashed by their text)."""
        target = self._databases.target
        if target.dialect.name != "postgresql":
            return None
        if self._types is None:
            with reading(target) as connection:
                self._types = column_types(
                    connection, self._job.target.table or "", self._job.target_columns
                )
        return self._types
