"""Change notifications between processes sharing one PostgreSQL database.

A transaction that changes an environment's flags or segments sends ``NOTIFY
rheostat_changes, '<environment>'`` inside itself: PostgreSQL delivers it when (and only
when) the transaction commits, so a listener never hears of a change it cannot read yet.
``ChangeFeed`` is the other end: one connection per process that ``LISTEN``s in a thread and
calls back with the environment's key. When its connection drops it reconnects with backoff
and calls back with ``None`` ("anything may have changed"), because notifications sent while
nobody listened are lost.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Iterable

import psycopg
from sqlalchemy import make_url, text
from sqlalchemy.orm import Session

__all__ = ["CHANGES_CHANNEL", "ChangeFeed", "announce_changes"]

logger = logging.getLogger("rheostat.store")

CHANGES_CHANNEL = "rheostat_changes"
_WAKE_S = 0.5
"""How often the listening thread looks up from its socket to see whether it must stop."""
_BACKOFF_CAP_S = 10.0


def announce_changes(session: Session, environments: Iterable[str]) -> None:
    """NOTIFY listeners of each changed environment, delivered when ``session`` commits."""
    for environment in environments:
        session.execute(
            text("SELECT pg_notify(:channel, :payload)"),
            {"channel": CHANGES_CHANNEL, "payload": environment},
        )


class ChangeFeed:
    """``LISTEN rheostat_changes`` on its own connection, in a daemon thread.

    ``on_change(environment)`` runs in that thread for each committed change (``None`` after a
    reconnect: refresh everything); it must be quick and must not raise.
    """

    def __init__(self, url: str, on_change: Callable[[str | None], None]) -> None:
        """Listen on the PostgreSQL database of SQLAlchemy ``url`` once ``start`` is called."""
        self._conninfo = make_url(url).set(drivername="postgresql").render_as_string(False)
        self._on_change = on_change
        self._stop = threading.Event()
        self._listening = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start listening (returns at once; ``wait_listening`` waits for the first LISTEN)."""
        self._thread = threading.Thread(target=self._run, name="rheostat-listen", daemon=True)
        self._thread.start()

    def wait_listening(self, timeout_s: float) -> bool:
        """Wait until the feed listens; return whether it does."""
        return self._listening.wait(timeout_s)

    def close(self) -> None:
        """Stop listening and join the thread (within about half a second)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self._listen(reconnected=failures > 0)
                failures = 0
            except psycopg.Error as error:
                self._listening.clear()
                failures += 1
                delay = min(_BACKOFF_CAP_S, 0.1 * 2**failures) * random.uniform(0.5, 1.0)  # noqa: S311  # jitter
                logger.warning("rheostat: change feed lost (%s); again in %.1f s", error, delay)
                self._stop.wait(delay)

    def _listen(self, *, reconnected: bool) -> None:
        with psycopg.connect(self._conninfo, autocommit=True) as connection:
            connection.execute(f"LISTEN {CHANGES_CHANNEL}")
            self._listening.set()
            if reconnected:
                self._on_change(None)
            while not self._stop.is_set():
                for notice in connection.notifies(timeout=_WAKE_S):
                    self._on_change(notice.payload)
