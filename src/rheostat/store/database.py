"""``SqlStore``: one SQLAlchemy engine and the units of work on it."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from rheostat.clock import Clock, SystemClock
from rheostat.errors import ConfigurationError, Conflict, RheostatError, StorageError
from rheostat.redaction import redact_secrets
from rheostat.store.notifications import ChangeFeed, announce_changes
from rheostat.store.operations_records import OutboxEvent
from rheostat.store.unit_of_work import UnitOfWork

__all__ = ["SqlStore", "normalize_database_url"]

logger = logging.getLogger("rheostat.store")

_POSTGRES_ALIASES = ("postgresql", "postgres", "postgresql+psycopg")
_SQLITE_TIMEOUT_S = 30.0
_POOL = {"pool_size": 20, "max_overflow": 20}
"""Connections kept open (and the most opened beyond them): enough for every request that may
hold one at once, so a busy server reuses its connections instead of opening one per request."""


def normalize_database_url(url: str) -> str:
    """Return ``url`` with PostgreSQL spelled for psycopg 3 (``postgresql+psycopg://``).

    Raises:
        ConfigurationError: empty, malformed, or neither SQLite nor PostgreSQL.
    """
    parsed = _parse_url(url)
    if parsed.drivername in _POSTGRES_ALIASES:
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        return url.strip()
    raise ConfigurationError(
        f"database URL {parsed.render_as_string()!r}: unsupported backend {parsed.drivername!r};"
        " use sqlite:///path.db or postgresql://user@host/dbname",
        details={"url": parsed.render_as_string()},
    )


def _parse_url(url: str) -> URL:
    if not url or not url.strip():
        raise ConfigurationError("the database URL is empty; set RHEOSTAT_DATABASE_URL")
    try:
        return make_url(url.strip())
    except ArgumentError as error:
        raise ConfigurationError(f"database URL is malformed: {error}") from error


class SqlStore:
    """A database (SQLite or PostgreSQL) behind one engine; safe to share between threads.

    Attributes:
        url: the normalised SQLAlchemy URL.
        clock: where audit timestamps come from.
        engine: the SQLAlchemy engine (for migrations and health checks).
    """

    def __init__(self, url: str, *, clock: Clock | None = None) -> None:
        """Build the engine (no connection is made yet); prefer ``service.open_store``."""
        self.url = normalize_database_url(url)
        self.clock: Clock = clock or SystemClock()
        self.engine = build_engine(self.url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        self._listeners: list[Callable[[str], None]] = []
        self._event_listeners: list[Callable[[OutboxEvent], None]] = []

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def close(self) -> None:
        """Dispose of the engine's connections."""
        self.engine.dispose()

    @contextmanager
    def unit_of_work(self) -> Iterator[UnitOfWork]:
        """One read-write transaction: commit when the block ends normally, else roll back.

        The edge (an HTTP request, a CLI command, a controller tick) opens it and passes it to
        as many service calls as its change needs; they all commit together or not at all.
        Change listeners and ``after_commit`` callbacks run after the commit, never before.
        On SQLite it holds the write lock from its first statement (``BEGIN IMMEDIATE``), so
        read-check-write is atomic; readers (``reading``) are not blocked by it (WAL).

        Database failures surface as ``StorageError``; rheostat errors pass through unchanged.
        """
        with self._transaction(read_only=False) as unit:
            yield unit
        unit.run_after_commit()
        for environment in sorted(unit.changed_environments):
            self._notify(environment)
        for emitted in unit.events:
            self._notify_event(emitted)

    @contextmanager
    def reading(self) -> Iterator[UnitOfWork]:
        """One read-only transaction that sees one committed state throughout.

        REPEATABLE READ, READ ONLY on PostgreSQL; a deferred transaction on SQLite, which takes
        no lock, so a long write never makes readers wait. Writing in it fails.
        """
        with self._transaction(read_only=True) as unit:
            yield unit

    @contextmanager
    def _transaction(self, *, read_only: bool) -> Iterator[UnitOfWork]:
        with self._sessions() as session:
            try:
                with session.begin():
                    _begin(session, read_only=read_only)
                    unit = UnitOfWork(session, clock=self.clock, read_only=read_only)
                    yield unit
                    if unit.changed_environments and self.dialect == "postgresql":
                        # delivered by PostgreSQL when this commits, never if it rolls back
                        announce_changes(session, sorted(unit.changed_environments))
            except RheostatError:
                raise
            except StaleDataError as error:
                raise Conflict(
                    "a concurrent change was committed first; read again and retry"
                ) from error
            except (DBAPIError, sqlite3.Error) as error:
                raise StorageError(f"the database failed: {_first_line(error)}") from error
            except SQLAlchemyError as error:
                raise StorageError(f"the database layer failed: {_first_line(error)}") from error

    def add_change_listener(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(environment)`` after each commit that changed its flags or segments.

        Listeners run in the committing thread and must not raise; this is the in-process
        change bus. Changes committed by other processes reach ``follow_changes`` (PostgreSQL).
        """
        self._listeners.append(listener)

    def follow_changes(self, listener: Callable[[str | None], None]) -> ChangeFeed | None:
        """Call ``listener(environment)`` for changes committed by any process (PostgreSQL).

        Returns the started ``ChangeFeed`` (close it when done), or ``None`` on SQLite, where
        only this process's commits are heard (``add_change_listener``) and other writers must
        be found by polling ``revision_of``. ``listener(None)`` means "anything may have
        changed" (the feed reconnected and may have missed notifications).
        """
        if self.dialect != "postgresql":
            return None
        feed = ChangeFeed(self.url, listener)
        feed.start()
        return feed

    def _notify(self, environment: str) -> None:
        for listener in list(self._listeners):
            try:
                listener(environment)
            except Exception:  # a listener must not undo a committed change
                logger.exception("rheostat: change listener failed for %r", environment)

    def add_event_listener(self, listener: Callable[[OutboxEvent], None]) -> None:
        """Call ``listener(event)`` after each commit, for every event it emitted (rollbacks,
        plan transitions, alerts): the in-process rollback hooks. A listener that raises is
        logged and the others still run; the change stays committed."""
        self._event_listeners.append(listener)

    def remove_event_listener(self, listener: Callable[[OutboxEvent], None]) -> None:
        """Stop calling ``listener`` (no error if it was not added)."""
        with contextlib.suppress(ValueError):
            self._event_listeners.remove(listener)

    def _notify_event(self, emitted: OutboxEvent) -> None:
        for listener in list(self._event_listeners):
            try:
                listener(emitted)
            except Exception:  # a hook must not undo a committed change
                logger.exception("rheostat: event hook failed for %s", emitted.type)

    def schema_revision(self) -> str | None:
        """Connect, and return the database's schema revision (``None`` when empty).

        Raises:
            StorageError: the database does not answer.
        """
        from rheostat.store.schema import current_revision  # alembic is heavy

        try:
            with self.engine.connect().execution_options(**{_READ_ONLY: True}) as connection:
                connection.execute(text("SELECT 1"))
                return current_revision(connection)
        except (DBAPIError, sqlite3.Error) as error:
            raise StorageError(f"the database does not answer: {_first_line(error)}") from error

    def session(self) -> Session:
        """A bare session, for health checks and tests; services use ``unit_of_work``."""
        return self._sessions()


_READ_ONLY = "rheostat_read_only"
"""Execution option that marks a read-only transaction (read by the SQLite begin hook)."""


def _begin(session: Session, *, read_only: bool) -> None:
    """Start the transaction now (on SQLite: wait here for the write lock, BEGIN IMMEDIATE).

    The unit of work reads its clock only after this, so its time is never earlier than the
    moment it could start writing.
    """
    if not read_only:
        session.connection()
    elif session.get_bind().dialect.name == "postgresql":
        session.connection(
            execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
        )
    else:
        session.connection(execution_options={_READ_ONLY: True})


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return redact_secrets(text.splitlines()[0]) if text else type(error).__name__


def build_engine(url: str) -> Engine:
    """Create the engine; on SQLite, turn on WAL, foreign keys and write-serialising BEGIN."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **_POOL)
    engine = create_engine(url, connect_args={"timeout": _SQLITE_TIMEOUT_S}, **_POOL)
    event.listen(engine, "do_connect", lambda *_: _require_sqlite_folder(parsed))
    event.listen(engine, "connect", _configure_sqlite)
    event.listen(engine, "begin", _begin_sqlite)
    return engine


def _require_sqlite_folder(url: URL) -> None:
    """Refuse to connect to a SQLite file whose folder does not exist, naming it (SQLite
    itself only says "unable to open database file")."""
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return
    folder = Path(database).expanduser().absolute().parent
    if not folder.is_dir():
        raise ConfigurationError(
            f"the SQLite database {database!r} cannot be created: its folder {str(folder)!r}"
            " does not exist; create it or point RHEOSTAT_DATABASE_URL elsewhere",
            details={"path": database, "folder": str(folder)},
        )


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # Take over transaction control from pysqlite so that BEGIN IMMEDIATE can be issued: every
    # transaction then holds the write lock from its first read, which makes read-check-write
    # (optimistic concurrency) atomic on SQLite.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()


def _begin_sqlite(connection: Any) -> None:
    # A writer takes the write lock at once (BEGIN IMMEDIATE): no other writer can slip in
    # between its read and its write. A reader takes no lock (deferred BEGIN; WAL gives it a
    # snapshot), and query_only makes a write attempted in it fail instead of taking the lock.
    # Both set query_only (when the pooled connection's last transaction had the other
    # setting), so a pooled connection never carries a reader's setting over.
    read_only = bool(connection.get_execution_options().get(_READ_ONLY, False))
    pooled = connection.connection.info  # lives as long as the SQLite connection
    if pooled.get(_QUERY_ONLY) is not read_only:
        connection.exec_driver_sql(f"PRAGMA query_only = {'ON' if read_only else 'OFF'}")
        pooled[_QUERY_ONLY] = read_only
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


_QUERY_ONLY = "rheostat_query_only"
"""Where a pooled SQLite connection remembers its ``query_only`` setting."""
