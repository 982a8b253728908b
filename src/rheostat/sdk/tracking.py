"""``MetricBuffer``: tracked values added up in the process into windows of sufficient
statistics, the body of ``POST /api/v1/client/metrics``.

One window per (flag, variant, metric, kind) and wall-clock minute: a ``bool`` value counts
as a trial of a proportion (``n``, ``successes``), a number as an observation of a mean
(``n``, ``sum``, ``sum_squares``, and a quantile sketch: counts in logarithmic bins, so a gate
can ask for the p95 without raw samples). Memory grows with the number of windows (and the
range of their values), never with traffic. A window is sent once it is closed, with an id
unique to this process and window, so a retried batch is counted once by the server. A batch
that fails goes back to the front of the queue; the queue holds at most ``max_pending``
windows (the oldest go first, counted in ``dropped``).
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from rheostat.metrics import QuantileSketch

__all__ = ["MetricBuffer"]

_MAX_VALUE = 1e12


@dataclass(slots=True)
class _Sums:
    n: int = 0
    sum: float = 0.0
    sum_squares: float = 0.0
    sketch: QuantileSketch | None = None


_Key = tuple[str, str, str, str, int]  # flag, variant, metric, kind, window start (epoch s)


class MetricBuffer:
    """Thread-safe; ``add`` is a dict update under a lock."""

    def __init__(self, *, instance_id: str, window_s: int = 60, max_pending: int = 10_000) -> None:
        """Collect windows of ``window_s`` seconds, named after ``instance_id``."""
        self._instance_id = instance_id
        self._window_s = window_s
        self._max_pending = max_pending
        self._lock = threading.Lock()
        self._open: dict[_Key, _Sums] = {}
        self._pending: deque[dict[str, Any]] = deque()
        self.dropped = 0

    def add(
        self, flag: str, variant: str, metric: str, value: float | bool, *, now: datetime
    ) -> bool:
        """Count ``value`` for the variant; ``False`` (ignored) if it is not a finite number
        within +-1e12 (tracking never raises)."""
        if isinstance(value, bool):
            kind, number = "proportion", float(value)
        elif isinstance(value, int | float) and math.isfinite(value) and abs(value) <= _MAX_VALUE:
            kind, number = "mean", float(value)
        else:
            return False
        start = int(now.timestamp()) // self._window_s * self._window_s
        with self._lock:
            sums = self._open.setdefault((flag, variant, metric, kind, start), _Sums())
            sums.n += 1
            sums.sum += number
            sums.sum_squares += number * number
            if kind == "mean":
                if sums.sketch is None:
                    sums.sketch = QuantileSketch()
                sums.sketch.add(number)
        return True

    def take(self, *, now: datetime, everything: bool = False) -> list[dict[str, Any]]:
        """Close the windows that ended by ``now`` (all, with ``everything``) and return the
        queue to send; ``give_back`` it if sending fails."""
        boundary = int(now.timestamp())
        with self._lock:
            closed = [
                key for key in self._open if everything or key[4] + self._window_s <= boundary
            ]
            for key in closed:
                self._queue(self._window(key, self._open.pop(key)))
            batch = list(self._pending)
            self._pending.clear()
        return batch

    def give_back(self, batch: list[dict[str, Any]]) -> None:
        """Put a batch that was not delivered back at the front (same ids: no double count)."""
        with self._lock:
            self._pending.extendleft(reversed(batch))
            while len(self._pending) > self._max_pending:
                self._pending.pop()
                self.dropped += 1

    def clear(self) -> None:
        """Forget everything (a forked child: the parent sends what it collected)."""
        with self._lock:
            self._open.clear()
            self._pending.clear()

    def _queue(self, window: dict[str, Any]) -> None:
        self._pending.append(window)
        while len(self._pending) > self._max_pending:
            self._pending.popleft()
            self.dropped += 1

    def _window(self, key: _Key, sums: _Sums) -> dict[str, Any]:
        flag, variant, metric, kind, start = key
        window: dict[str, Any] = {
            "id": f"{self._instance_id}-{start}-{_digest(flag, variant, metric, kind)}",
            "flag": flag,
            "variant": variant,
            "metric": metric,
            "kind": kind,
            "start": (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=start)).isoformat(),
            "seconds": self._window_s,
            "n": sums.n,
        }
        if kind == "proportion":
            window["successes"] = round(sums.sum)
        else:
            window["sum"], window["sum_squares"] = sums.sum, sums.sum_squares
            if sums.sketch is not None:
                window["sketch"] = sums.sketch.to_document()
        return window


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:24]
