"""Alembic migrations: one history for SQLite and PostgreSQL, run from the installed package.

``rheostat.store.schema.upgrade_to_head`` configures Alembic in code (no ``alembic.ini``) with
``script_location = "rheostat.store:migrations"`` and hands ``env.py`` an open connection.
"""
