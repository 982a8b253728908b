"""Alembic environment: runs on the connection ``upgrade_to_head`` passes in ``attributes``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from rheostat.errors import ConfigurationError
from rheostat.store.tables import Base


def run_migrations(connection: Connection) -> None:
    """Run the pending migrations on ``connection`` (inside its open transaction)."""
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise ConfigurationError("rheostat migrations run online only (use `rheostat migrate-db`)")
_connection = context.config.attributes.get("connection")
if not isinstance(_connection, Connection):
    raise ConfigurationError(
        "rheostat migrations need a connection; run them with rheostat.service.migrate_database"
    )
run_migrations(_connection)
