"""The demo's clock: real time set back, then moved forward as fast as the demo likes.

Release plans bake for half an hour per stage; the demo passes those hours in seconds. Its
story starts ``behind`` the present and every controller pass moves the clock on by a
simulated minute; ``catch_up`` then brings it to the present, so the dashboard left running
afterwards (on the real clock) shows everything in the past, in the order it happened.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from rheostat.clock import Clock

__all__ = ["FastClock"]


class FastClock:
    """A ``Clock`` reading ``base`` shifted by an offset that only grows."""

    def __init__(self, base: Clock, *, behind: timedelta) -> None:
        self._base = base
        self._offset = -behind

    def now(self) -> datetime:
        return self._base.now() + self._offset

    def sleep(self, seconds: float) -> None:
        self.advance(timedelta(seconds=seconds))

    def monotonic(self) -> float:
        return self._base.monotonic() + self._offset.total_seconds()

    def advance(self, delta: timedelta) -> None:
        """Move simulated time forward by ``delta`` at once."""
        self._offset += delta

    def catch_up(self) -> None:
        """Come back to the present, if simulated time is still behind it."""
        self._offset = max(self._offset, timedelta(0))
