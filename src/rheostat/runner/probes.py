"""Load readings between batches (replication lag, SQL, HTTP, a callable), and import paths."""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import Engine, text

from rheostat.backfill import BackfillJob, Probe
from rheostat.clock import Clock
from rheostat.errors import ConfigurationError

__all__ = ["read_probes", "replication_lag", "resolve"]

_LAG_SQL = "SELECT coalesce(max(extract(epoch FROM replay_lag)), 0) FROM pg_stat_replication"


def resolve(path: str, field: str) -> Callable[..., Any]:
    """The callable named ``module:attribute`` (``field`` names it in errors)."""
    module_name, _, attribute = path.partition(":")
    try:
        target: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as error:
        raise ConfigurationError(f"{field}: cannot import {path!r}: {error}") from error
    if not callable(target):
        raise ConfigurationError(f"{field}: {path!r} is not callable")
    return target  # type: ignore[no-any-return]


def replication_lag(engine: Engine) -> float | None:
    """The largest replay lag of the PostgreSQL primary's replicas, in seconds (0 without
    replicas); ``None`` on other databases or when it cannot be read."""
    if engine.dialect.name != "postgresql":
        return None
    try:
        with engine.connect() as connection:
            value = connection.execute(text(_LAG_SQL)).scalar()
    except Exception:  # noqa: BLE001 - a probe that fails pauses the copy; it never crashes it
        return math.inf
    return float(value or 0)


def read_probes(
    job: BackfillJob, engines: dict[str, Engine], clock: Clock
) -> tuple[tuple[str, float | None, float], ...]:
    """``(name, reading, max)`` of each probe; a failed probe reads ``None``."""
    return tuple(
        (f"{probe.kind}[{index}]", _read(probe, engines, clock), probe.max)
        for index, probe in enumerate(job.throttle.probes)
    )


def _read(probe: Probe, engines: dict[str, Engine], clock: Clock) -> float | None:
    try:
        if probe.kind == "sql":
            with engines[probe.on].connect() as connection:
                value = connection.execute(text(probe.target)).scalar()
            return None if value is None else float(value)
        if probe.kind == "http":
            started = clock.monotonic()
            response = httpx.get(probe.target, timeout=max(5.0, 2 * probe.max))
            if not response.is_success:
                return None
            return clock.monotonic() - started
        return float(resolve(probe.target, "throttle.probes")())
    except Exception:  # noqa: BLE001 - a failed probe reads None, which pauses the copy
        return None
