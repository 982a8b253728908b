"""A job's two databases: the source and target engines (one engine when they are one
database) and the SQL of its batches, in each side's dialect."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text

from rheostat.backfill import BackfillJob, same_database
from rheostat.runner.sql import READ_ONLY, BatchSql, open_engine

__all__ = ["Databases", "reading"]


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A read-only connection (no lock on SQLite) whose transaction is rolled back after."""
    with engine.connect().execution_options(**{READ_ONLY: True}) as connection:
        yield connection
        connection.rollback()


@dataclass(frozen=True, slots=True)
class Databases:
    """Where a job reads and writes; ``open`` makes the engines, ``close`` disposes them."""

    source: Engine
    target: Engine
    sql: BatchSql

    @classmethod
    def open(cls, job: BackfillJob) -> Databases:
        """Engines for ``job``'s source and target (shared when they name one database)."""
        source = open_engine(job.source.url)
        shared = same_database(job.source.url, job.target.url)
        target = source if shared else open_engine(job.target.url)
        return cls(source, target, BatchSql(job, source.dialect, target.dialect))

    @property
    def shared(self) -> bool:
        """Source and target are one database (one engine, one transaction)."""
        return self.target is self.source

    def close(self) -> None:
        """Release the connections."""
        self.source.dispose()
        if not self.shared:
            self.target.dispose()

    def count_source(self) -> int:
        """The number of source rows."""
        with reading(self.source) as connection:
            count = connection.execute(text(self.sql.count_source())).scalar()
        return int(count or 0)
