"""Chunk checksums and their comparison: the proof that a copy is right.

A chunk is a key range ``(low, high]`` (``None`` = unbounded). Each side counts the rows in
the range and sums two hashes of each row's text. Sums are order-independent, so neither side
needs to sort, and unlike an XOR a duplicated row changes them. A database computes them
itself: PostgreSQL with one 64-bit ``hashtextextended``, SQLite with the two 32-bit halves of
an MD5 (functions the runner registers); a database-mode verify compares one kind of
database with itself. ``row_text`` and ``sum_rows`` do the same in Python (MD5 halves) when
rows must be read: a Python transform, or two different kinds of database.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

__all__ = [
    "NULL_TEXT",
    "ChunkDifference",
    "ChunkSum",
    "VerifyReport",
    "compare_chunks",
    "row_hashes",
    "row_text",
    "sum_rows",
]

NULL_TEXT = "\\N"
SEPARATOR = "|"


@dataclass(frozen=True, slots=True)
class ChunkSum:
    """Row count and the two hash sums of one side of one chunk."""

    rows: int
    hash1: int
    hash2: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ChunkDifference:
    """A key range whose two sides differ."""

    low: tuple[Any, ...] | None
    high: tuple[Any, ...] | None
    source: ChunkSum
    target: ChunkSum

    @property
    def row_delta(self) -> int:
        """Target rows minus source rows in the range."""
        return self.target.rows - self.source.rows


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyReport:
    """The result of a verify pass."""

    chunks: int
    source_rows: int
    target_rows: int
    differences: tuple[ChunkDifference, ...] = field(default=())

    @property
    def identical(self) -> bool:
        """Zero differences: the only state in which a cut-over may go ahead."""
        return not self.differences and self.source_rows == self.target_rows


def row_text(values: Sequence[Any]) -> str:
    """The canonical text of one row's values (Python side)."""
    return SEPARATOR.join(_value_text(value) for value in values)


def row_hashes(text: str) -> tuple[int, int]:
    """The two 32-bit halves of the MD5 of a row's text."""
    digest = hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()
    return int(digest[:8], 16), int(digest[8:16], 16)


def sum_rows(rows: Iterable[Sequence[Any]]) -> ChunkSum:
    """The ``ChunkSum`` of rows read into Python."""
    count = total1 = total2 = 0
    for row in rows:
        first, second = row_hashes(row_text(row))
        count += 1
        total1 += first
        total2 += second
    return ChunkSum(count, total1, total2)


def compare_chunks(
    chunks: Iterable[tuple[tuple[Any, ...] | None, tuple[Any, ...] | None, ChunkSum, ChunkSum]],
) -> VerifyReport:
    """Compare ``(low, high, source, target)`` per chunk into a report."""
    count = source_rows = target_rows = 0
    differences: list[ChunkDifference] = []
    for low, high, source, target in chunks:
        count += 1
        source_rows += source.rows
        target_rows += target.rows
        if source != target:
            differences.append(ChunkDifference(low=low, high=high, source=source, target=target))
    return VerifyReport(
        chunks=count,
        source_rows=source_rows,
        target_rows=target_rows,
        differences=tuple(differences),
    )


def _value_text(value: Any) -> str:
    if value is None:
        return NULL_TEXT
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return str(int(value))
        return format(value.normalize(), "f")
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return str(value)
