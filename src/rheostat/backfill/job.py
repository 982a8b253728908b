"""The backfill job: its value types and its fingerprint.

``rheostat.backfill.document`` reads a job document into a ``BackfillJob`` and writes it back.
The fingerprint digests what decides which rows go where; a checkpoint made under another
fingerprint is refused rather than continued.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "BackfillJob",
    "BatchSettings",
    "Endpoint",
    "Probe",
    "ThrottleSettings",
    "job_essence",
    "job_fingerprint",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Endpoint:
    """One side of the copy.

    Attributes:
        url_template: the URL as written in the job (``${VAR}`` kept).
        url: the URL with the environment's values put in.
        table: the table (``schema.table`` allowed); ``None`` when ``query`` is given.
        query: a ``SELECT`` whose rows are the source (source side only).
        key: the key columns, in order (a composite key has several).
    """

    url_template: str
    url: str
    table: str | None
    query: str | None
    key: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchSettings:
    """Rows per batch to start with, and the time one batch should take (0 = fixed size)."""

    size: int = 1000
    target_seconds: float = 0.5
    min_size: int = 10
    max_size: int = 100_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Probe:
    """A load probe checked between batches: its reading above ``max`` pauses the copy.

    ``kind`` is ``sql`` (``target`` is a query returning one number, run on ``on``: source or
    target), ``http`` (``target`` is a URL; a status other than 2xx or a latency above
    ``max`` seconds pauses) or ``callable`` (``target`` is ``module:function`` returning a
    number).
    """

    kind: str
    target: str
    max: float
    on: str = "source"


@dataclass(frozen=True, slots=True, kw_only=True)
class ThrottleSettings:
    """Limits between batches: 0 means no limit."""

    max_rows_per_second: float = 0.0
    replication_lag_seconds: float = 0.0
    probes: tuple[Probe, ...] = ()
    pause_seconds: float = 1.0
    nice_ratio: float = 0.0
    """After each batch, rest this many times the batch's duration (gh-ost's ``nice-ratio``):
    0.5 leaves the database a third of the copy's time, 1 half."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BackfillJob:
    """A validated job document."""

    name: str
    source: Endpoint
    target: Endpoint
    columns: tuple[tuple[str, str], ...]
    transform: str | None = None
    batch: BatchSettings = field(default_factory=BatchSettings)
    throttle: ThrottleSettings = field(default_factory=ThrottleSettings)
    workers: int = 1
    """Parallel workers (``parallel.workers``), each claiming key ranges; 1 copies in order.
    Not part of the fingerprint: it may change between runs."""

    @property
    def target_columns(self) -> tuple[str, ...]:
        """The target's columns, in the document's order."""
        return tuple(column for column, _ in self.columns)

    @property
    def source_expressions(self) -> tuple[str, ...]:
        """The source expression of each target column, in the same order."""
        return tuple(expression for _, expression in self.columns)


def job_essence(job: BackfillJob) -> dict[str, Any]:
    """What decides which rows go where: source (table or query, key), target (table, key),
    columns and transform. URLs, batch and throttle settings may change between runs."""
    return {
        "source": [job.source.table, job.source.query, list(job.source.key)],
        "target": [job.target.table, list(job.target.key)],
        "columns": [list(pair) for pair in job.columns],
        "transform": job.transform,
    }


def job_fingerprint(job: BackfillJob) -> str:
    """A digest of ``job_essence``: a checkpoint made under another fingerprint is unusable."""
    canonical = json.dumps(job_essence(job), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]
