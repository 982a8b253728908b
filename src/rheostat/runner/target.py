"""The target table: checked before a run (its columns, a unique key), reflected for writes."""

from __future__ import annotations

from sqlalchemy import Connection, MetaData, Table, inspect, text
from sqlalchemy.exc import NoSuchTableError, SQLAlchemyError

from rheostat.backfill import BackfillJob
from rheostat.errors import ConfigurationError
from rheostat.runner.databases import Databases, reading
from rheostat.runner.sql import quote_name

__all__ = ["TargetTable"]

_PG_UNIQUE_KEY = """
SELECT 1 FROM pg_index AS i
WHERE i.indrelid = CAST(:table AS regclass) AND i.indisunique AND i.indpred IS NULL
  AND (SELECT array_agg(a.attname::text ORDER BY a.attname::text COLLATE "C") FROM pg_attribute AS a
       WHERE a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)) = CAST(:columns AS text[])
  AND i.indnkeyatts = cardinality(CAST(:columns AS text[]))
LIMIT 1
"""
"""A unique index (the primary key's included) on exactly the key columns, on PostgreSQL."""


class TargetTable:
    """``job``'s target table in ``databases.target``."""

    def __init__(self, job: BackfillJob, databases: Databases) -> None:
        self._job = job
        self._databases = databases
        self._table: Table | None = None

    def check(self) -> None:
        """Check the target table and its columns exist and that its key is unique.

        One probe query and, on PostgreSQL, one catalog query: reflecting the table costs
        more than a small backfill. Reflection runs only to explain a failed probe, and for
        the streamed strategy's executemany (``table``).

        Raises:
            ConfigurationError: no such table or column, or no unique key.
        """
        sql = self._databases.sql
        target = self._databases.target
        columns = ", ".join(quote_name(target.dialect, c) for c in self._job.target_columns)
        try:
            with reading(target) as connection:
                connection.execute(text(f"SELECT {columns} FROM {sql.target_relation} WHERE 1 = 0"))  # noqa: S608
                unique = not sql.upserts or self._key_is_unique(connection)
        except SQLAlchemyError:
            self._reflect()  # names the missing table or column
            raise
        if not unique:
            raise ConfigurationError(
                f"target.key: {self._job.target.table!r} needs a primary key or unique index on "
                f"({', '.join(self._job.target.key)}) so that a redone batch overwrites rows "
                "instead of duplicating them",
                details={"path": "target.key"},
            )

    def table(self, connection: Connection) -> Table:
        """The target table, reflected once through ``connection`` (inside its transaction:
        on SQLite another connection would wait for the batch's own write lock)."""
        if self._table is None:
            self._table = self._reflect(connection)
        return self._table

    def _reflect(self, connection: Connection | None = None) -> Table:
        table_name = self._job.target.table or ""
        schema, _, name = table_name.rpartition(".")
        try:
            table = Table(
                name,
                MetaData(),
                schema=schema or None,
                autoload_with=connection or self._databases.target,
            )
        except NoSuchTableError as error:
            raise ConfigurationError(
                f"target.table: no table {table_name!r} in the target database",
                details={"path": "target.table"},
            ) from error
        missing = [c for c in self._job.target_columns if c not in table.c]
        if missing:
            raise ConfigurationError(
                f"columns: the target table {table_name!r} has no column {missing[0]!r}",
                details={"path": "columns", "missing": missing},
            )
        return table

    def _key_is_unique(self, connection: Connection) -> bool:
        wanted = sorted(self._job.target.key)
        table_name = self._job.target.table or ""
        dialect = self._databases.target.dialect
        if dialect.name == "postgresql":
            found = connection.execute(
                text(_PG_UNIQUE_KEY),
                {"table": quote_name(dialect, table_name), "columns": wanted},
            ).first()
            return found is not None
        schema, _, name = table_name.rpartition(".")
        inspector = inspect(connection)
        primary = inspector.get_pk_constraint(name, schema=schema or None)
        if sorted(primary.get("constrained_columns") or []) == wanted:
            return True
        for constraint in inspector.get_unique_constraints(name, schema=schema or None):
            if sorted(constraint["column_names"]) == wanted:
                return True
        for index in inspector.get_indexes(name, schema=schema or None):
            if index.get("unique") and sorted(c for c in index["column_names"] if c) == wanted:
                return True
        return False
