"""``Migrator``: route an application's reads and writes through a table migration's stages.

```python
migrator = Migrator("revenue-partitioned", client, tracker=client, sample_rate=0.05)
ctx = Context(key=f"org-{org_id}", attributes={"org_id": org_id})
migrator.write(lambda: old_repo.insert(row), lambda: new_repo.insert(row), context=ctx)
rows = migrator.read(lambda: old_repo.list(org_id), lambda: new_repo.list(org_id), context=ctx,
                     compare=lambda old, new: sorted(old) == sorted(new))
```

The stage comes from the migration's stage flags, evaluated locally through the ``FlagSet``
or ``Client`` given (``rheostat.migrate.stages``: the highest stage whose flag is on). Routing
never raises: a flag source that fails counts as ``off``, the old store only, which is always
safe. The primary store's result and error are the caller's, exactly as without the
migration; the secondary write and the compared read never raise into the caller: their
errors are recorded. Use the org (or tenant) as the context key, so all of one org's
requests are in one stage.

Recorded per call (``stats``, and through ``tracker.track`` as metric windows of every stage
flag, under the variant each serves the context, so a release plan on ``migrate.<m>.live``
compares the live contexts, variant ``on``, with the rest, ``off``):

* ``migrate_read_ms_old`` / ``_new``, ``migrate_write_ms_old`` / ``_new``: latency per side;
* ``migrate_read_error_old`` / ``_new``, ``migrate_write_error_old`` / ``_new``: a proportion;
* ``migrate_mismatch``: a proportion over the compared reads.
"""

from __future__ import annotations

import itertools
import logging
import math
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from rheostat.clock import Clock, SystemClock
from rheostat.flags import Context
from rheostat.migrate.stages import (
    Route,
    Stage,
    StoreSide,
    route,
    stage_flag_keys,
)

__all__ = ["FlagSource", "Migrator", "MigratorStats", "Mismatch", "Tracker"]

logger = logging.getLogger("rheostat.migrate")

T = TypeVar("T")
MISMATCH_METRIC = "migrate_mismatch"
_KEPT_MISMATCHES = 100
# Names built once: an enum's .value and an f-string per call cost more than the routing.
_STAGE_NAMES = {stage: stage.value for stage in Stage}
_CALL_NAMES = {
    (operation, side): (
        f"{operation}_{side.value}",
        f"migrate_{operation}_ms_{side.value}",
        f"migrate_{operation}_error_{side.value}",
    )
    for operation in ("read", "write")
    for side in StoreSide
}


class FlagSource(Protocol):
    """What routing needs: ``FlagSet`` and ``Client`` both are one."""

    def is_enabled(self, key: str, context: Context | str, default: bool = False) -> bool:
        """Whether ``key`` is on for ``context``."""
        ...


class Tracker(Protocol):
    """Where metrics go: ``Client.track``."""

    def track(
        self,
        metric: str,
        context: Context | str,
        value: float | bool = True,
        *,
        flags: Iterable[str] | None = None,
    ) -> None:
        """Count ``value`` of ``metric`` for the variants ``context`` is served."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Mismatch:
    """A compared read whose two answers differed (or could not be compared)."""

    migration: str
    stage: Stage
    context_key: str
    old: Any
    new: Any
    error: str | None = None


@dataclass(slots=True)
class MigratorStats:
    """Counts since the ``Migrator`` was made (read under its lock: use ``snapshot``)."""

    calls: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    latency_ms: dict[str, float] = field(default_factory=dict)
    stages: dict[str, int] = field(default_factory=dict)
    compared: int = 0
    mismatched: int = 0
    routing_errors: int = 0
    recent_mismatches: deque[Mismatch] = field(
        default_factory=lambda: deque(maxlen=_KEPT_MISMATCHES)
    )

    def snapshot(self) -> dict[str, Any]:
        """The counts as JSON-friendly values (``read_old``, ``write_new``... keys)."""
        return {
            "calls": dict(self.calls),
            "errors": dict(self.errors),
            "latency_ms": dict(self.latency_ms),
            "stages": dict(self.stages),
            "compared": self.compared,
            "mismatched": self.mismatched,
            "routing_errors": self.routing_errors,
        }


class Migrator:
    """Routes ``read`` and ``write`` by the migration's stage; thread-safe."""

    def __init__(
        self,
        migration: str,
        flags: FlagSource,
        *,
        tracker: Tracker | None = None,
        sample_rate: float = 1.0,
        on_mismatch: Callable[[Mismatch], None] | None = None,
        clock: Clock | None = None,
    ) -> None:
        """Route ``migration`` by its stage flags in ``flags``.

        Args:
            sample_rate: the share of reads compared in ``shadow`` and ``live`` (0 to 1),
                spread evenly (every 20th read at 0.05), not at random.
            tracker: ``Client`` (or anything with its ``track``) to send metrics through.
            on_mismatch: called with each ``Mismatch`` (its errors are logged, not raised).

        Raises:
            ValueError: ``sample_rate`` outside [0, 1].
        """
        if not (isinstance(sample_rate, int | float) and 0.0 <= sample_rate <= 1.0):
            raise ValueError(f"sample_rate must be a number from 0 to 1, got {sample_rate!r}")
        self.migration = migration
        self._flags = flags
        self._tracker = tracker
        self._sample_rate = float(sample_rate)
        self._on_mismatch = on_mismatch
        self._clock: Clock = clock or SystemClock()
        flag_keys = stage_flag_keys(migration)
        self._descending = tuple(reversed(flag_keys.items()))
        self._tracked = tuple(flag_keys.values())
        self._reads = itertools.count()
        self._lock = threading.Lock()
        self.stats = MigratorStats()

    # Routing -------------------------------------------------------------------------
    def stage(self, context: Context | str | None = None) -> Stage:
        """The stage of ``context``: the highest stage whose flag is on. Never raises: a
        flag source that fails gives ``off``."""
        subject = self._context(context)
        try:
            for stage, key in self._descending:
                if self._flags.is_enabled(key, subject, False) is True:
                    return stage
        except Exception:  # routing must never break the request: the old store is safe
            logger.exception("rheostat: migration %r: stage flags failed", self.migration)
            with self._lock:
                self.stats.routing_errors += 1
        return Stage.OFF

    def route(self, context: Context | str | None = None) -> Route:
        """Where ``context``'s reads and writes go now."""
        return route(self.stage(context))

    # Writes --------------------------------------------------------------------------
    def write(
        self,
        old_fn: Callable[[], T],
        new_fn: Callable[[], T],
        *,
        context: Context | str | None = None,
    ) -> T:
        """Write through the primary store, then the secondary one (if the stage has one).

        Returns the primary's result; its error propagates (the secondary is then not
        written). The secondary's error is recorded and never raised.
        """
        subject = self._context(context)
        plan = self._planned(subject)
        functions = {StoreSide.OLD: old_fn, StoreSide.NEW: new_fn}
        result = self._call("write", plan.write, functions[plan.write], subject)
        if plan.mirror_write is not None:
            self._quietly("write", plan.mirror_write, functions[plan.mirror_write], subject)
        return result

    # Reads ---------------------------------------------------------------------------
    def read(
        self,
        old_fn: Callable[[], T],
        new_fn: Callable[[], T],
        *,
        context: Context | str | None = None,
        compare: Callable[[T, T], bool] | None = None,
    ) -> T:
        """Read from the primary store; in ``shadow`` and ``live``, on a sample of reads,
        also read the other one and compare (``compare(old, new)``, default ``==``).

        Returns the primary's answer; its error propagates. The compared read's error, and
        a ``compare`` that raises, are never raised: the first counts as an error of that
        store (not compared), the second as a mismatch.
        """
        subject = self._context(context)
        plan = self._planned(subject)
        functions = {StoreSide.OLD: old_fn, StoreSide.NEW: new_fn}
        result = self._call("read", plan.read, functions[plan.read], subject)
        if plan.compare_read is not None and self._sampled():
            other = self._quietly("read", plan.compare_read, functions[plan.compare_read], subject)
            if other.error is None:  # a failed read is counted as that side's error
                answers = {plan.read: result, plan.compare_read: other.value}
                self._compare(
                    plan.stage,
                    subject,
                    old=answers[StoreSide.OLD],
                    new=answers[StoreSide.NEW],
                    compare=compare,
                )
        return result

    # Internals -------------------------------------------------------------------------
    def _context(self, context: Context | str | None) -> Context | str:
        return Context(key=self.migration) if context is None else context

    def _planned(self, subject: Context | str) -> Route:
        plan = route(self.stage(subject))
        name = _STAGE_NAMES[plan.stage]
        with self._lock:
            self.stats.stages[name] = self.stats.stages.get(name, 0) + 1
        return plan

    def _sampled(self) -> bool:
        index = next(self._reads)
        rate = self._sample_rate
        return math.floor((index + 1) * rate) > math.floor(index * rate)

    def _call(
        self, operation: str, side: StoreSide, function: Callable[[], T], subject: Context | str
    ) -> T:
        started = self._clock.monotonic()
        try:
            result = function()
        except BaseException:
            self._record(operation, side, subject, started=started, failed=True)
            raise
        self._record(operation, side, subject, started=started, failed=False)
        return result

    def _quietly(
        self,
        operation: str,
        side: StoreSide,
        function: Callable[[], Any],
        subject: Context | str,
    ) -> _Outcome:
        try:
            return _Outcome(value=self._call(operation, side, function, subject))
        except Exception as error:  # noqa: BLE001  # the secondary store never breaks the request
            logger.warning(
                "rheostat: migration %r: %s on the %s store failed: %r",
                self.migration,
                operation,
                side.value,
                error,
            )
            return _Outcome(value=None, error=f"{type(error).__name__}: {error}")

    def _record(
        self,
        operation: str,
        side: StoreSide,
        subject: Context | str,
        *,
        started: float,
        failed: bool,
    ) -> None:
        elapsed_ms = max(0.0, (self._clock.monotonic() - started) * 1000.0)
        name, latency_metric, error_metric = _CALL_NAMES[operation, side]
        with self._lock:
            stats = self.stats
            stats.calls[name] = stats.calls.get(name, 0) + 1
            stats.errors[name] = stats.errors.get(name, 0) + int(failed)
            stats.latency_ms[name] = stats.latency_ms.get(name, 0.0) + elapsed_ms
        if self._tracker is not None:
            self._track(latency_metric, subject, elapsed_ms)
            self._track(error_metric, subject, failed)

    def _compare(
        self,
        stage: Stage,
        subject: Context | str,
        *,
        old: Any,
        new: Any,
        compare: Callable[[Any, Any], bool] | None,
    ) -> None:
        error = None
        try:
            same = bool(compare(old, new)) if compare is not None else bool(old == new)
        except Exception as raised:  # noqa: BLE001  # a broken compare is a mismatch, not an outage
            same, error = False, f"compare raised {type(raised).__name__}: {raised}"
        with self._lock:
            self.stats.compared += 1
            self.stats.mismatched += int(not same)
        self._track(MISMATCH_METRIC, subject, not same)
        if not same:
            key = subject.key if isinstance(subject, Context) else subject
            found = Mismatch(
                migration=self.migration,
                stage=stage,
                context_key=key,
                old=old,
                new=new,
                error=error,
            )
            with self._lock:
                self.stats.recent_mismatches.append(found)
            self._tell(found)

    def _tell(self, mismatch: Mismatch) -> None:
        if self._on_mismatch is None:
            return
        try:
            self._on_mismatch(mismatch)
        except Exception:  # a listener's bug must not break the request
            logger.exception("rheostat: migration %r: on_mismatch failed", self.migration)

    def _track(self, metric: str, subject: Context | str, value: float | bool) -> None:
        if self._tracker is None:
            return
        try:
            self._tracker.track(metric, subject, value, flags=self._tracked)
        except Exception:  # metrics must never break the request
            logger.exception("rheostat: migration %r: tracking failed", self.migration)


@dataclass(frozen=True, slots=True)
class _Outcome:
    value: Any
    error: str | None = None
