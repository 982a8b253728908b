"""The declarative base, column types and the constraint naming convention of the schema."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, DateTime, Dialect, Integer, MetaData, TypeDecorator
from sqlalchemy.orm import DeclarativeBase

__all__ = [
    "KEY_LENGTH",
    "NAMING_CONVENTION",
    "ROW_ID",
    "Base",
    "Document",
    "OrderedJSON",
    "UtcDateTime",
]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

KEY_LENGTH = 128


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores it naive, as UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("rheostat stores only timezone-aware datetimes")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class OrderedJSON(JSON):
    """JSON whose changes are detected with key order: ``{"a": 1, "b": 2}`` to ``{"b": 2,
    "a": 1}`` is written (dict equality, the ORM's default test, would skip the UPDATE)."""

    def compare_values(self, x: Any, y: Any) -> bool:
        return x is y or json.dumps(x, default=repr) == json.dumps(y, default=repr)


Document = OrderedJSON(none_as_null=True)
"""JSON column, stored as text (``json``, not ``jsonb``, on PostgreSQL): key order is meaning.

A split assigns contiguous bucket ranges in the order its variants are written, so reordering
keys (as ``jsonb`` does, or an ORM that compares dicts) would move users between variants."""


class Base(DeclarativeBase):
    """Declarative base with the constraint naming convention Alembic relies on."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime,
        dict[str, Any]: Document,
    }


ROW_ID = BigInteger().with_variant(Integer, "sqlite")
"""Ids of append-only tables: 64-bit on PostgreSQL, SQLite's rowid there."""
