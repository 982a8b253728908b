# ruff: noqa: S608  # identifiers are quoted by the dialect; expressions are the document's SQL
"""Parity sums of a migration's old and new tables, computed in their databases.

Each side is summed as a backfill verify sums a chunk (``BatchSql.checksum``: the same
hashes: on PostgreSQL the typed row hash of ``typed_row_hash``, by the new table's column
types, the old side's values cast to them as a copy would; SQLite's MD5 halves of the row
text), over the whole
table and per ``group_by`` value (``pilot`` values only, when the document names them). When
both tables live in one database, both sides are read in **one snapshot** (one read-only
transaction; ``REPEATABLE READ`` on PostgreSQL), so a dual write committed in one
transaction is never half-seen; parity is then exact, not a race. Two different kinds of
database are compared by reading the rows into Python and hashing them the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import SQLAlchemyError

from rheostat.backfill import ChunkSum, row_hashes, row_text
from rheostat.errors import StorageError
from rheostat.migrate import Migration, ParityReport, assess_parity
from rheostat.runner.sql import (
    READ_ONLY,
    SERVER_HASH_DIALECTS,
    column_types,
    open_engine,
    quote_name,
    typed_row_hash,
)

__all__ = ["SideSums", "measure_parity", "sum_side"]

NULL_TEXT = "'\\N'"
_GROUP = "rheostat_group"


@dataclass(frozen=True, slots=True, kw_only=True)
class SideSums:
    """One side's sums: the whole table and each group (by the group value's text)."""

    table: ChunkSum
    groups: Mapping[str, ChunkSum]


def measure_parity(migration: Migration) -> ParityReport:
    """Sum both tables and judge them with the migration's thresholds.

    Raises:
        StorageError: a database failed (the message names the side and the first line).
        ConfigurationError: a URL that cannot be opened.
    """
    old_engine = open_engine(migration.old.url)
    new_engine = old_engine if migration.same_database else open_engine(migration.new.url)
    try:
        in_database = (
            old_engine.dialect.name == new_engine.dialect.name
            and old_engine.dialect.name in SERVER_HASH_DIALECTS
        )
        types = _typed(new_engine, migration) if in_database else None
        if migration.same_database:
            with _snapshot(old_engine, "old and new") as connection:
                old = sum_side(connection, migration, "old", in_database=in_database, types=types)
                new = sum_side(connection, migration, "new", in_database=in_database, types=types)
        else:
            with _snapshot(old_engine, "old") as connection:
                old = sum_side(connection, migration, "old", in_database=in_database, types=types)
            with _snapshot(new_engine, "new") as connection:
                new = sum_side(connection, migration, "new", in_database=in_database, types=types)
    finally:
        old_engine.dispose()
        if new_engine is not old_engine:
            new_engine.dispose()
    return assess_parity(
        migration.name,
        old_table=old.table,
        new_table=new.table,
        old_groups=old.groups if migration.group_by else None,
        new_groups=new.groups if migration.group_by else None,
        group_by=migration.group_by,
        thresholds=migration.thresholds,
    )


def _typed(engine: Engine, migration: Migration) -> tuple[str, ...] | None:
    """The new table's column types on PostgreSQL (rows hash by them), else ``None``."""
    if engine.dialect.name != "postgresql":
        return None
    with _snapshot(engine, "new") as connection:
        columns = [column for column, _ in migration.columns]
        return column_types(connection, migration.new.table, columns)


def sum_side(
    connection: Connection,
    migration: Migration,
    side: str,
    *,
    in_database: bool,
    types: tuple[str, ...] | None = None,
) -> SideSums:
    """The sums of one side (``old`` or ``new``) read through ``connection``; on PostgreSQL
    ``types`` (the new table's column types) select the typed row hash."""
    sql = _SideSql(migration, side, connection.dialect, types)
    groups: dict[str, ChunkSum] = {}
    if migration.group_by is not None:
        statement, params = sql.grouped(in_database=in_database)
        rows = connection.execute(text(statement), params)
        groups = _group_sums(rows, in_database=in_database)
        if not migration.pilot:  # every group was summed: they add up to the table
            return SideSums(table=_total(groups.values()), groups=groups)
    statement, params = sql.whole(in_database=in_database)
    rows = connection.execute(text(statement), params)
    return SideSums(
        table=_total(_group_sums(rows, in_database=in_database).values()), groups=groups
    )


@contextmanager
def _snapshot(engine: Engine, side: str) -> Iterator[Connection]:
    options: dict[str, Any] = {READ_ONLY: True}
    if engine.dialect.name == "postgresql":
        options["isolation_level"] = "REPEATABLE READ"
    try:
        with engine.connect().execution_options(**options) as connection:
            yield connection
            connection.rollback()
    except SQLAlchemyError as error:
        lines = str(getattr(error, "orig", None) or error).strip().splitlines()
        message = lines[0] if lines else type(error).__name__
        raise StorageError(f"parity: the {side} table's database failed: {message}") from error


@dataclass(frozen=True, slots=True)
class _SideSql:
    migration: Migration
    side: str
    dialect: Dialect
    types: tuple[str, ...] | None = None

    @property
    def relation(self) -> str:
        table = self.migration.old.table if self.side == "old" else self.migration.new.table
        return quote_name(self.dialect, table)

    @property
    def values(self) -> list[str]:
        if self.side == "old":
            return [expression for _, expression in self.migration.columns]
        return [quote_name(self.dialect, column) for column, _ in self.migration.columns]

    def grouped(self, *, in_database: bool) -> tuple[str, dict[str, Any]]:
        assert self.migration.group_by is not None  # noqa: S101 - only called with a group
        group = quote_name(self.dialect, self.migration.group_by)
        where, params = "", {}
        if self.migration.pilot:
            names = [f":g{index}" for index in range(len(self.migration.pilot))]
            where = f" WHERE {group} IN ({', '.join(names)})"
            params = {f"g{index}": value for index, value in enumerate(self.migration.pilot)}
        return self._select(group, where, in_database=in_database), params

    def whole(self, *, in_database: bool) -> tuple[str, dict[str, Any]]:
        return self._select("NULL", "", in_database=in_database), {}

    def _select(self, group: str, where: str, *, in_database: bool) -> str:
        if not in_database:
            columns = ", ".join(self.values)
            return f"SELECT {group} AS {_GROUP}, {columns} FROM {self.relation}{where}"
        if self.dialect.name == "postgresql" and self.types is not None:
            row_hash = typed_row_hash(self.values, self.types, cast=self.side == "old")
            return (
                f"SELECT {group} AS {_GROUP}, count(*), coalesce(sum({row_hash}), 0), 0 "
                f"FROM {self.relation}{where} GROUP BY 1"
            )
        inner = f"SELECT {group} AS {_GROUP}, {self._row_text()} AS t FROM {self.relation}{where}"
        return (
            f"SELECT {_GROUP}, count(*), {self._hash_sums()} "
            f"FROM ({inner}) AS rheostat_rows GROUP BY {_GROUP}"
        )

    def _row_text(self) -> str:
        # The row text of BatchSql.checksum, so parity and verify sums agree.
        if self.dialect.name == "postgresql":
            parts = ", ".join(f"coalesce(({value})::text, {NULL_TEXT})" for value in self.values)
            return f"concat_ws('|', {parts})"
        return " || '|' || ".join(
            f"coalesce(CAST(({value}) AS TEXT), {NULL_TEXT})" for value in self.values
        )

    def _hash_sums(self) -> str:
        if self.dialect.name == "postgresql":
            return "coalesce(sum(hashtextextended(t, 0)), 0), 0"
        return "coalesce(sum(rheostat_h1(t)), 0), coalesce(sum(rheostat_h2(t)), 0)"


def _group_sums(rows: Any, *, in_database: bool) -> dict[str, ChunkSum]:
    if in_database:
        return {
            _group_text(group): ChunkSum(int(count), int(first), int(second))
            for group, count, first, second in rows
        }
    sums: dict[str, list[int]] = {}
    for group, *values in rows:
        first, second = row_hashes(row_text(values))
        total = sums.setdefault(_group_text(group), [0, 0, 0])
        total[0] += 1
        total[1] += first
        total[2] += second
    return {group: ChunkSum(*total) for group, total in sums.items()}


def _total(parts: Iterable[ChunkSum]) -> ChunkSum:
    count = first = second = 0
    for part in parts:
        count += part.rows
        first += part.hash1
        second += part.hash2
    return ChunkSum(count, first, second)


def _group_text(value: Any) -> str:
    return "null" if value is None else str(value)
