"""Upgrading the schema with Alembic, configured in code from the installed package."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from rheostat.errors import StorageError

__all__ = ["current_revision", "head_revision", "upgrade_to_head"]

SCRIPT_LOCATION = "rheostat.store:migrations"
_MIGRATION_LOCK_ID = 7_406_519_283
"""PostgreSQL advisory lock key: concurrent ``migrate-db`` runs take turns."""


def alembic_config() -> Config:
    """An Alembic ``Config`` pointing at the packaged migrations; no ini file is read."""
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    return config


def head_revision() -> str:
    """The newest revision the installed package knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("rheostat ships no migrations")  # a packaging bug, not user input
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at; ``None`` for an empty database."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade_to_head(engine: Engine) -> list[str]:
    """Apply pending migrations in one transaction; return their revisions, oldest first.

    Raises:
        StorageError: the database is unreachable or refused a statement.
    """
    try:
        before = _upgrade(engine)
    except DBAPIError as error:
        raise StorageError(f"migrating the database failed: {error.orig or error}") from error
    return _revisions_between(before, head_revision())


def _upgrade(engine: Engine) -> str | None:
    config = alembic_config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID}
            )
        before = current_revision(connection)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return before


def _revisions_between(before: str | None, head: str) -> list[str]:
    if before == head:
        return []
    scripts = ScriptDirectory.from_config(alembic_config())
    walked = scripts.walk_revisions(base="base" if before is None else before, head=head)
    return [script.revision for script in reversed(list(walked)) if script.revision != before]
