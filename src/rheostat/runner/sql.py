# ruff: noqa: S608  # identifiers are quoted by the dialect; expressions are the job's own SQL
"""Engines for the job's databases and the SQL of one batch, one chunk checksum, one repair.

Identifiers are quoted by each database's own dialect; keys are compared as row values
(``(org, id) > (:lo0, :lo1)``), which PostgreSQL, SQLite (3.15+) and MySQL all understand, so
a composite key pages in its index order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.engine import Dialect

from rheostat.backfill import BackfillJob
from rheostat.errors import ConfigurationError
from rheostat.service import normalize_database_url

__all__ = [
    "READ_ONLY",
    "SERVER_HASH_DIALECTS",
    "BatchSql",
    "column_types",
    "key_params",
    "open_engine",
    "quote_name",
    "typed_row_hash",
]

SERVER_HASH_DIALECTS = ("postgresql", "sqlite")
"""Databases that compute chunk checksums themselves."""
SOURCE_ALIAS = "rheostat_source"
_SQLITE_TIMEOUT_S = 60.0
NULL_TEXT = "'\\N'"


def open_engine(url: str) -> Engine:
    """An engine for one of the job's databases (not rheostat's store).

    On SQLite a writer takes the write lock at its first statement (``BEGIN IMMEDIATE``), so a
    batch's read of the checkpoint and its write are atomic, and the two checksum halves are
    registered as SQL functions (``rheostat_h1``, ``rheostat_h2``).
    """
    try:
        normalized = normalize_database_url(url)
        parsed = make_url(normalized)
    except Exception as error:
        raise ConfigurationError(f"not a database URL: {error}") from error
    if parsed.get_backend_name() != "sqlite":
        return create_engine(normalized, pool_pre_ping=True)
    engine = create_engine(normalized, connect_args={"timeout": _SQLITE_TIMEOUT_S})
    event.listen(engine, "connect", _configure_sqlite)
    event.listen(engine, "begin", _begin_sqlite)
    return engine


READ_ONLY = "rheostat_read_only"
"""Execution option of a connection that only reads (a deferred BEGIN on SQLite: no lock)."""


def _begin_sqlite(connection: Any) -> None:
    read_only = connection.get_execution_options().get(READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    dbapi_connection.create_function("rheostat_h1", 1, _half(0), deterministic=True)
    dbapi_connection.create_function("rheostat_h2", 1, _half(8), deterministic=True)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()


def _half(start: int) -> Any:
    def digest(text: str | None) -> int:
        data = (text or "").encode("utf-8")
        return int(hashlib.md5(data, usedforsecurity=False).hexdigest()[start : start + 8], 16)

    return digest


def quote_name(dialect: Dialect, name: str) -> str:
    """A (possibly ``schema.``-qualified) name, quoted for ``dialect``."""
    preparer = dialect.identifier_preparer
    return ".".join(preparer.quote(part) for part in name.split("."))


@dataclass(frozen=True, slots=True)
class BatchSql:
    """The SQL texts of a job, for its source and target dialects."""

    job: BackfillJob
    source_dialect: Dialect
    target_dialect: Dialect

    # -- source side -------------------------------------------------------------------
    @property
    def source_relation(self) -> str:
        """The source's FROM item."""
        if self.job.source.query is not None:
            return f"({self.job.source.query}) AS {SOURCE_ALIAS}"
        assert self.job.source.table is not None  # noqa: S101 - the job guarantees one of them
        return quote_name(self.source_dialect, self.job.source.table)

    @property
    def target_relation(self) -> str:
        """The target table."""
        assert self.job.target.table is not None  # noqa: S101 - targets are tables
        return quote_name(self.target_dialect, self.job.target.table)

    def _key(self, dialect: Dialect, columns: Sequence[str]) -> list[str]:
        return [quote_name(dialect, column) for column in columns]

    def range_condition(self, side: str, *, low: bool, high: bool) -> str:
        """``WHERE`` text for the key range ``(:lo, :hi]`` on ``side`` (source or target)."""
        dialect, columns = self._side(side)
        keys = self._key(dialect, columns)
        parts: list[str] = []
        for present, operator, prefix in ((low, ">", "lo"), (high, "<=", "hi")):
            if not present:
                continue
            names = [f":{prefix}{index}" for index in range(len(keys))]
            if len(keys) == 1:
                parts.append(f"{keys[0]} {operator} {names[0]}")
            else:
                parts.append(f"({', '.join(keys)}) {operator} ({', '.join(names)})")
        # An unbounded range still has a WHERE: SQLite needs one before INSERT ... SELECT's
        # ON CONFLICT (without it, ON would be read as a join's).
        return " AND ".join(parts) or "1 = 1"

    def order_by(self, side: str, *, descending: bool = False) -> str:
        """The key order on ``side``."""
        dialect, columns = self._side(side)
        suffix = " DESC" if descending else ""
        return ", ".join(f"{key}{suffix}" for key in self._key(dialect, columns))

    def boundary(self, *, low: bool, high: bool = False) -> str:
        """The key ``:offset`` rows after ``:lo`` on the source (the end of a batch or chunk),
        not past ``:hi`` when ``high`` (the end of a parallel worker's key range)."""
        keys = ", ".join(self._key(self.source_dialect, self.job.source.key))
        return (
            f"SELECT {keys} FROM {self.source_relation} "
            f"WHERE {self.range_condition('source', low=low, high=high)} "
            f"ORDER BY {self.order_by('source')} LIMIT 1 OFFSET :offset"
        )

    def last_key(self, *, low: bool, high: bool = False) -> str:
        """The greatest source key after ``:lo`` (and not past ``:hi`` when ``high``)."""
        keys = ", ".join(self._key(self.source_dialect, self.job.source.key))
        return (
            f"SELECT {keys} FROM {self.source_relation} "
            f"WHERE {self.range_condition('source', low=low, high=high)} "
            f"ORDER BY {self.order_by('source', descending=True)} LIMIT 1"
        )

    def count_source(self) -> str:
        """The number of source rows."""
        return f"SELECT count(*) FROM {self.source_relation}"

    def select_rows(self, *, low: bool, high: bool, limit: bool) -> str:
        """The source rows of a range, as the target's columns, in key order."""
        selected = ", ".join(
            f"{expression} AS {quote_name(self.source_dialect, column)}"
            for column, expression in self.job.columns
        )
        text = (
            f"SELECT {selected} FROM {self.source_relation} "
            f"WHERE {self.range_condition('source', low=low, high=high)} "
            f"ORDER BY {self.order_by('source')}"
        )
        return text + (" LIMIT :limit" if limit else "")

    def select_target_rows(self, *, low: bool, high: bool) -> str:
        """The target rows of a range, in the columns' order."""
        columns = ", ".join(quote_name(self.target_dialect, c) for c in self.job.target_columns)
        return (
            f"SELECT {columns} FROM {self.target_relation} "
            f"WHERE {self.range_condition('target', low=low, high=high)}"
        )

    # -- target side -------------------------------------------------------------------
    @property
    def upserts(self) -> bool:
        """Whether the target database has ``INSERT ... ON CONFLICT`` (else delete + insert)."""
        return self.target_dialect.name in ("postgresql", "sqlite")

    def conflict_clause(self) -> str:
        """``ON CONFLICT (key) DO UPDATE SET ...`` (or ``DO NOTHING`` when all is key)."""
        quote = self.target_dialect.identifier_preparer.quote
        keys = ", ".join(quote(column) for column in self.job.target.key)
        others = [c for c in self.job.target_columns if c not in self.job.target.key]
        if not others:
            return f"ON CONFLICT ({keys}) DO NOTHING"
        updates = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in others)
        return f"ON CONFLICT ({keys}) DO UPDATE SET {updates}"

    def any_target_row(self, *, low: bool) -> str:
        """One target row in ``(:lo, :hi]``, if there is any (an index probe)."""
        return (
            f"SELECT 1 FROM {self.target_relation} "
            f"WHERE {self.range_condition('target', low=low, high=True)} LIMIT 1"
        )

    def insert_select(self, *, low: bool, high: bool, upsert: bool = True) -> str:
        """The server-side copy of a source range into the target (one statement); with
        ``upsert`` an existing key is overwritten (on databases that have ``ON CONFLICT``)."""
        quote = self.target_dialect.identifier_preparer.quote
        columns = ", ".join(quote(column) for column in self.job.target_columns)
        expressions = ", ".join(self.job.source_expressions)
        text = (
            f"INSERT INTO {self.target_relation} ({columns}) "
            f"SELECT {expressions} FROM {self.source_relation} "
            f"WHERE {self.range_condition('source', low=low, high=high)}"
        )
        return f"{text} {self.conflict_clause()}" if upsert and self.upserts else text

    def delete_range(self, *, low: bool, high: bool) -> str:
        """Delete the target rows of a range (repair; and the write of databases without
        ``ON CONFLICT``)."""
        return (
            f"DELETE FROM {self.target_relation} "
            f"WHERE {self.range_condition('target', low=low, high=high)}"
        )

    # -- checksums ---------------------------------------------------------------------
    def checksum(
        self, side: str, *, low: bool, high: bool, types: Sequence[str] | None = None
    ) -> str:
        """Row count and two hash sums of a range, computed in the database (the same
        functions on both sides: ``database`` mode needs one kind of database).

        On PostgreSQL with ``types`` (the target columns' types, in the columns' order) each
        row's hash is the XOR of one typed 64-bit hash per column, seeded by its position
        (``typed_row_hash``): no text is built for integer and text columns, which makes it
        about three times cheaper than hashing the row's text."""
        dialect, _ = self._side(side)
        if side == "source":
            values = list(self.job.source_expressions)
            relation = self.source_relation
        else:
            values = [quote_name(dialect, column) for column in self.job.target_columns]
            relation = self.target_relation
        where = self.range_condition(side, low=low, high=high)
        if dialect.name == "postgresql" and types is not None:
            row_hash = typed_row_hash(values, types, cast=side == "source")
            return f"SELECT count(*), coalesce(sum({row_hash}), 0), 0 FROM {relation} WHERE {where}"
        if dialect.name == "postgresql":
            # One 64-bit hashtextextended (PostgreSQL 11+) per row: a changed row moves the
            # sum unless its two hashes collide (2^-64), and it costs a third of the copy
            # (md5 with its hex-to-bit casts cost more than the copy). Both sides of a
            # database-mode verify are PostgreSQL, so both compute the same function.
            text = ", ".join(f"coalesce(({value})::text, {NULL_TEXT})" for value in values)
            return (
                "SELECT count(*), coalesce(sum(hashtextextended(t, 0)), 0), 0 "
                f"FROM (SELECT concat_ws('|', {text}) AS t FROM {relation} "
                f"WHERE {where}) AS rheostat_rows"
            )
        if dialect.name == "sqlite":
            text = " || '|' || ".join(
                f"coalesce(CAST(({value}) AS TEXT), {NULL_TEXT})" for value in values
            )
            return (
                "SELECT count(*), coalesce(sum(rheostat_h1(t)), 0), "
                f"coalesce(sum(rheostat_h2(t)), 0) FROM (SELECT {text} AS t FROM {relation} "
                f"WHERE {where}) AS rheostat_rows"
            )
        raise ConfigurationError(f"{dialect.name} does not compute rheostat checksums")

    def _side(self, side: str) -> tuple[Dialect, tuple[str, ...]]:
        if side == "source":
            return self.source_dialect, self.job.source.key
        return self.target_dialect, self.job.target.key


_INTEGER_TYPES = frozenset({"smallint", "integer", "bigint"})
_PG_COLUMN_TYPES = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute AS a
WHERE a.attrelid = CAST(:table AS regclass) AND a.attnum > 0 AND NOT a.attisdropped
"""


def column_types(connection: Any, table: str, columns: Sequence[str]) -> tuple[str, ...]:
    """The PostgreSQL types (``format_type``) of ``table``'s ``columns``, in their order: what
    ``typed_row_hash`` hashes by."""
    rows = connection.execute(
        text(_PG_COLUMN_TYPES), {"table": quote_name(connection.dialect, table)}
    ).all()
    found = {str(name): str(kind) for name, kind in rows}
    return tuple(found[column] for column in columns)


def typed_row_hash(values: Sequence[str], types: Sequence[str], *, cast: bool) -> str:
    """A PostgreSQL expression hashing one row: the XOR of a 64-bit hash of each value, seeded
    by the column's position (so swapped values differ), a NULL hashing to a constant of its
    own. ``types`` are the target columns' types (``format_type``); with ``cast`` (the
    source side) each value is first cast to its target column's type, as the copy's
    ``INSERT`` did, so both sides hash the same typed values: integers with
    ``hashint8extended`` (no text built), text with ``hashtextextended``, any other type
    its text."""
    parts = []
    for position, (value, kind) in enumerate(zip(values, types, strict=True)):
        typed = f"CAST(({value}) AS {kind})" if cast else value
        if kind in _INTEGER_TYPES:
            hashed = f"hashint8extended(CAST({typed} AS bigint), {position})"
        else:  # text as it is; any other type as its text
            hashed = f"hashtextextended(CAST({typed} AS text), {position})"
        parts.append(f"coalesce({hashed}, {-1 - position})")
    return " # ".join(parts)


def key_params(low: tuple[Any, ...] | None, high: tuple[Any, ...] | None) -> dict[str, Any]:
    """Bind parameters for ``range_condition``."""
    params: dict[str, Any] = {}
    for prefix, key in (("lo", low), ("hi", high)):
        if key is not None:
            params.update({f"{prefix}{index}": value for index, value in enumerate(key)})
    return params
