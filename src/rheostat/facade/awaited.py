"""``AwaitedCall``: a coroutine that says so when it is dropped without ``await``."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Generator
from typing import Any, TypeVar

__all__ = ["AwaitedCall"]

T = TypeVar("T")


class AwaitedCall(Coroutine[Any, Any, T]):
    """A coroutine that reports a forgotten await (what ``start_test``/``stop_test`` return).

    A bare coroutine dropped without ``await`` only warns (often unseen), and the test silently
    neither starts nor stops. This one, when it is garbage-collected without having run, tells
    its manager (``forgotten``), which logs an ERROR and makes its next call raise. It is a
    ``Coroutine``, so ``await``, ``asyncio.run``, ``create_task`` and ``gather`` all take it.
    """

    __slots__ = ("_call", "_forgotten", "_run", "_started")

    def __init__(
        self,
        run: Coroutine[Any, Any, T],
        *,
        forgotten: Callable[[str], None],
        call: str,
    ) -> None:
        self._run = run
        self._forgotten = forgotten
        self._call = call
        self._started = False

    def __await__(self) -> Generator[Any, None, T]:
        self._started = True
        return self._run.__await__()

    def send(self, value: Any) -> Any:
        """Run the call to its next suspension (what an event loop does)."""
        self._started = True
        return self._run.send(value)

    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any:
        """Raise ``typ`` inside the call (cancellation)."""
        self._started = True
        if val is None and tb is None:
            return self._run.throw(typ)
        return self._run.throw(typ, val, tb)  # the deprecated 3-argument form, if used

    def close(self) -> None:
        """Close the call without running it: a deliberate choice, not a forgotten await."""
        self._started = True
        self._run.close()

    def __del__(self) -> None:
        if not self._started:
            self._run.close()  # never ran: no "coroutine was never awaited" warning on top
            self._forgotten(self._call)
