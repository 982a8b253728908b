"""The dialect's INSERT, for ``ON CONFLICT`` upserts (PostgreSQL and SQLite spell it alike)."""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

__all__ = ["dialect_insert"]


def dialect_insert(session: Session, table: Table) -> postgresql.Insert | sqlite.Insert:
    """``INSERT`` for ``table`` in the session's dialect, with ``on_conflict_do_*``."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
