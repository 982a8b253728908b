"""Decisions of a backfill, as pure functions: where the next batch starts, how big it is,
whether to wait before it, and how far along the job is.

No clock, database or network: the runner measures and passes the numbers in.
"""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from rheostat.backfill.job import BackfillJob, BatchSettings, ThrottleSettings
from rheostat.errors import InvalidDefinition

__all__ = [
    "BatchTiming",
    "Progress",
    "Strategy",
    "ThrottleDecision",
    "ThrottleReading",
    "choose_strategy",
    "decide_throttle",
    "decode_key",
    "encode_key",
    "next_batch_size",
    "nice_wait",
    "progress",
    "range_split",
    "same_database",
]

GROWTH_LIMIT = 4.0
"""A batch is at most this many times bigger than the one before: from the first 1,000 rows
to 100,000 in four batches, without jumping on one lucky measurement."""
SHRINK_LIMIT = 0.5
"""... and at least this fraction of it, unless it took far too long (see PANIC_FACTOR)."""
PANIC_FACTOR = 5.0
"""A batch that took this many times its target shrinks the next one to a tenth (as Spirit)."""
MIN_WAIT_SECONDS = 0.001
"""A shorter wait for the rows/s limit is no wait (a clock may not even be able to show it)."""
RANGES_PER_WORKER = 4
"""Key ranges per parallel worker: a worker that finishes early takes another range, so one
slow range does not leave the others idle (Spirit's chunker hands out chunks the same way)."""
MIN_RANGE_ROWS = 10_000
"""Fewer rows than this in a range would cost more in claims than it saves."""
SMOOTHING = 0.5
"""Weight of the newest rate in the running rate (exponential moving average, as pt-osc)."""


class Strategy(StrEnum):
    """How rows move."""

    SERVER_SIDE = "server_side"
    """One ``INSERT ... SELECT ... ON CONFLICT`` per batch, inside the database."""
    STREAMED = "streamed"
    """Read a batch, transform it in Python (if asked), write it with executemany."""


def same_database(source_url: str, target_url: str) -> bool:
    """Whether two URLs name the same database (driver names and passwords ignored)."""

    def essence(url: str) -> tuple[str, str, int | None, str]:
        parts = urlsplit(url)
        backend = parts.scheme.split("+", 1)[0].replace("postgres", "postgresql")
        backend = backend.replace("postgresqlql", "postgresql")
        host = (parts.hostname or "").replace("localhost", "127.0.0.1")
        port = parts.port
        if backend == "postgresql" and port is None and host:
            port = 5432
        return backend, host, port, parts.path

    return essence(source_url) == essence(target_url)


def choose_strategy(job: BackfillJob) -> Strategy:
    """Server-side when both sides are one database and no Python transform runs."""
    if job.transform is None and same_database(job.source.url, job.target.url):
        return Strategy.SERVER_SIDE
    return Strategy.STREAMED


@dataclass(frozen=True, slots=True)
class BatchTiming:
    """What the last batch did: its size, rows copied and seconds taken."""

    size: int
    rows: int
    seconds: float


def next_batch_size(
    settings: BatchSettings, timing: BatchTiming, rate: float | None
) -> tuple[int, float | None]:
    """The next batch's size, and the running rate (rows/s) it was computed from.

    The size aims at ``settings.target_seconds`` per batch from a smoothed rate, grows at most
    ``GROWTH_LIMIT``-fold and shrinks at most to ``SHRINK_LIMIT`` per step (a batch that
    took ``PANIC_FACTOR`` times the target drops to a tenth at once), within
    ``[min_size, max_size]``. A target of 0 keeps the size fixed. A short last batch (the
    end of the table) says little about the rate and leaves the size as it is.
    """
    if settings.target_seconds <= 0 or timing.rows <= 0:
        return timing.size, rate
    observed = timing.rows / max(timing.seconds, 1e-6)
    smoothed = observed if rate is None else SMOOTHING * observed + (1 - SMOOTHING) * rate
    if timing.rows < timing.size // 2:
        return timing.size, smoothed
    if timing.seconds >= PANIC_FACTOR * settings.target_seconds:
        wanted = timing.size / 10
    else:
        ideal = smoothed * settings.target_seconds
        wanted = min(max(ideal, timing.size * SHRINK_LIMIT), timing.size * GROWTH_LIMIT)
    size = int(min(max(round(wanted), settings.min_size), settings.max_size))
    return size, smoothed


@dataclass(frozen=True, slots=True, kw_only=True)
class ThrottleReading:
    """What the runner measured before a batch.

    Attributes:
        rows_done_in_window, window_seconds: rows this run copied and the seconds it took, for
            the rows/s limit.
        replication_lag_seconds: the largest replica lag now, ``None`` if not measured.
        probes: ``(name, reading, max)`` of each probe; a reading of ``None`` is a probe that
            failed (an error pauses the copy: better slow than blind).
    """

    rows_done_in_window: int = 0
    window_seconds: float = 0.0
    replication_lag_seconds: float | None = None
    probes: tuple[tuple[str, float | None, float], ...] = ()


@dataclass(frozen=True, slots=True)
class ThrottleDecision:
    """Wait ``wait_seconds`` before the next batch (0 = go), and why."""

    wait_seconds: float
    reasons: tuple[str, ...] = ()

    @property
    def go(self) -> bool:
        """Whether the next batch may start now."""
        return self.wait_seconds <= 0


def decide_throttle(settings: ThrottleSettings, reading: ThrottleReading) -> ThrottleDecision:
    """Whether to wait before the next batch, and for how long.

    The rows/s limit waits exactly long enough to bring the average down to the limit; lag and
    probes over their limits wait ``settings.pause_seconds`` and are read again.
    """
    waits: list[float] = []
    reasons: list[str] = []
    limit = settings.max_rows_per_second
    if limit > 0 and reading.rows_done_in_window > 0:
        earliest = reading.rows_done_in_window / limit
        if earliest - reading.window_seconds >= MIN_WAIT_SECONDS:
            waits.append(earliest - reading.window_seconds)
            reasons.append(f"rate above {limit:g} rows/s")
    lag_limit = settings.replication_lag_seconds
    lag = reading.replication_lag_seconds
    if lag_limit > 0 and lag is not None and lag > lag_limit:
        waits.append(settings.pause_seconds)
        reasons.append(f"replication lag {lag:.1f}s above {lag_limit:g}s")
    for name, value, maximum in reading.probes:
        if value is None:
            waits.append(settings.pause_seconds)
            reasons.append(f"probe {name} failed")
        elif value > maximum:
            waits.append(settings.pause_seconds)
            reasons.append(f"probe {name} read {value:g}, above {maximum:g}")
    return ThrottleDecision(max(waits, default=0.0), tuple(reasons))


def nice_wait(settings: ThrottleSettings, batch_seconds: float) -> float:
    """The rest after a batch that took ``batch_seconds``: ``nice_ratio`` times it (gh-ost's
    nice-ratio), so the copy holds the database at most ``1 / (1 + nice_ratio)`` of the time,
    whatever the batch size; below ``MIN_WAIT_SECONDS`` it is no wait."""
    wait = max(batch_seconds, 0.0) * settings.nice_ratio
    return wait if wait >= MIN_WAIT_SECONDS else 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Progress:
    """How far a job is: rows done of the estimated total, the rate and the time left."""

    rows_done: int
    rows_total: int | None
    rows_per_second: float
    eta_seconds: float | None
    percent: float | None


def progress(rows_done: int, rows_total: int | None, run_rows: int, run_seconds: float) -> Progress:
    """Progress from the totals and this run's rate (rows copied / seconds spent copying)."""
    rate = run_rows / run_seconds if run_seconds > 0 else 0.0
    eta: float | None = None
    percent: float | None = None
    if rows_total is not None:
        left = max(rows_total - rows_done, 0)
        eta = left / rate if rate > 0 else None
        percent = 100.0 if rows_total == 0 else min(100.0, 100.0 * rows_done / rows_total)
    return Progress(
        rows_done=rows_done,
        rows_total=rows_total,
        rows_per_second=rate,
        eta_seconds=eta,
        percent=percent,
    )


# Keys travel as JSON (checkpoints, reports): each value keeps its type.
def encode_key(key: tuple[Any, ...] | None) -> str | None:
    """The JSON text of a key (``None`` stays ``None``: before the first row)."""
    if key is None:
        return None
    return json.dumps([_encode_value(value) for value in key], separators=(",", ":"))


def decode_key(text: str | None) -> tuple[Any, ...] | None:
    """The key ``encode_key`` wrote."""
    if text is None:
        return None
    try:
        items = json.loads(text)
    except ValueError as error:
        raise InvalidDefinition("checkpoint.last_key", f"not a stored key: {error}") from error
    if not isinstance(items, list):
        raise InvalidDefinition("checkpoint.last_key", "not a stored key")
    return tuple(_decode_value(item) for item in items)


def _encode_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidDefinition("key", f"cannot page on a non-finite key {value!r}")
        return {"float": repr(value)}
    if isinstance(value, datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    if isinstance(value, UUID):
        return {"uuid": str(value)}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"bytes": base64.b64encode(bytes(value)).decode("ascii")}
    raise InvalidDefinition("key", f"cannot page on a key of type {type(value).__name__}")


def _decode_value(item: Any) -> Any:
    if not isinstance(item, dict):
        return item
    ((kind, text),) = item.items()
    decoders: dict[str, Any] = {
        "float": float,
        "datetime": datetime.fromisoformat,
        "date": date.fromisoformat,
        "decimal": Decimal,
        "uuid": UUID,
        "bytes": base64.b64decode,
    }
    return decoders[kind](text)


def range_split(rows: int, workers: int) -> tuple[int, int]:
    """How to split ``rows`` remaining source rows for ``workers`` parallel workers:
    ``(ranges, rows per range)``. ``RANGES_PER_WORKER`` ranges per worker, each of at least
    ``MIN_RANGE_ROWS`` rows (and at least one range); the last range has no upper end, so
    rows added past the end meanwhile are copied too."""
    if workers < 1:
        raise InvalidDefinition("parallel.workers", f"must be at least 1, got {workers}")
    rows = max(rows, 0)
    ranges = max(1, min(workers * RANGES_PER_WORKER, rows // MIN_RANGE_ROWS))
    per_range = max(1, math.ceil(rows / ranges)) if rows else 1
    return ranges, per_range
