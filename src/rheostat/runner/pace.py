"""The pace of a copy: wait while the throttle says so, rest after each batch.

Before a batch, the runner reads the job's signals (its rate, the source's replication lag,
the probes) and asks the pure planner (``decide_throttle``) whether to go; after it, it rests
``nice_ratio`` times the batch's duration. Both waits are sliced, so a stop is heard soon.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rheostat.backfill import BackfillJob, ThrottleReading, decide_throttle, nice_wait
from rheostat.clock import Clock
from rheostat.runner.databases import Databases
from rheostat.runner.probes import read_probes, replication_lag

__all__ = ["IDLE_SLICE_SECONDS", "Pace", "Pacer"]

IDLE_SLICE_SECONDS = 0.2
"""The longest single sleep: a stop request waits at most this long to be heard."""


@dataclass(slots=True)
class Pace:
    """A worker's batch size, running rate and rows copied, carried from range to range."""

    size: int
    started: float
    rate: float | None = None
    copied: int = 0


class Pacer:
    """Paces ``job``'s batches on ``databases`` by ``clock``."""

    def __init__(self, job: BackfillJob, databases: Databases, *, clock: Clock) -> None:
        self._job = job
        self._databases = databases
        self._clock = clock

    def wait(
        self, run_rows: int, started: float, should_stop: Callable[[], bool]
    ) -> tuple[str, ...]:
        """Wait until the throttle lets the next batch go (or ``should_stop()``); return the
        reasons it held the batch back (empty: it did not)."""
        throttle = self._job.throttle
        limits = (throttle.max_rows_per_second, throttle.replication_lag_seconds)
        if max(limits) <= 0 and not throttle.probes:
            return ()
        source = self._databases.source
        engines = {"source": source, "target": self._databases.target}
        reasons: tuple[str, ...] = ()
        while not should_stop():
            lag = replication_lag(source) if throttle.replication_lag_seconds > 0 else None
            reading = ThrottleReading(
                rows_done_in_window=run_rows,
                window_seconds=self._clock.monotonic() - started,
                replication_lag_seconds=lag,
                probes=read_probes(self._job, engines, self._clock),
            )
            decision = decide_throttle(throttle, reading)
            if decision.go:
                break
            reasons = decision.reasons
            self._clock.sleep(min(decision.wait_seconds, IDLE_SLICE_SECONDS))
        return reasons

    def rest(self, seconds: float, should_stop: Callable[[], bool], finished: bool) -> None:
        """After a batch, rest ``nice_ratio`` times its duration (sliced: a stop is heard)."""
        rest = 0.0 if finished else nice_wait(self._job.throttle, seconds)
        until = self._clock.monotonic() + rest
        while rest > 0 and not should_stop():
            left = until - self._clock.monotonic()
            if left <= 0:
                break
            self._clock.sleep(min(left, IDLE_SLICE_SECONDS))
