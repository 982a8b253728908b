"""Opening the store and upgrading its schema."""

from __future__ import annotations

from rheostat.clock import Clock
from rheostat.store import SqlStore
from rheostat.store.database import build_engine, normalize_database_url
from rheostat.store.schema import upgrade_to_head

__all__ = ["migrate_database", "normalize_database_url", "open_store"]


def open_store(url: str, *, clock: Clock | None = None) -> SqlStore:
    """Create the engine for ``url`` (normalised) without connecting yet.

    The schema is not touched: call ``migrate_database`` first (the CLI's ``migrate-db``, or
    ``serve`` on start-up). Call ``store.close()`` when done.

    Args:
        url: SQLAlchemy URL, e.g. ``sqlite:///./rheostat.db`` or ``postgresql://u@host/db``;
            ``postgresql://`` and ``postgres://`` are rewritten to ``postgresql+psycopg://``.
        clock: where audit timestamps come from; the system clock by default.

    Raises:
        ConfigurationError: the URL is empty, malformed or not SQLite/PostgreSQL.
    """
    return SqlStore(url, clock=clock)


def migrate_database(url: str) -> list[str]:
    """Upgrade the database at ``url`` to the newest schema (Alembic ``upgrade head``).

    Idempotent: on an up-to-date database it changes nothing. Runs from the installed package;
    no ``alembic.ini`` is needed. On PostgreSQL concurrent runs take turns (advisory lock).

    Returns:
        The revisions applied, oldest first (empty when already at head).

    Raises:
        ConfigurationError: bad URL. StorageError: the database is unreachable or refused.
    """
    engine = build_engine(normalize_database_url(url))
    try:
        return upgrade_to_head(engine)
    finally:
        engine.dispose()
