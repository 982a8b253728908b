"""The store a facade works on, and reporting an ``async`` call that was never awaited."""

from __future__ import annotations

import logging
import threading

from rheostat.clock import Clock
from rheostat.errors import AlreadyExists, ConfigurationError, NotFound
from rheostat.service import (
    Change,
    SqlStore,
    create_environment,
    get_environment,
    migrate_database,
    open_store,
)
from rheostat.settings import Settings

__all__ = ["ManagedStore"]


class ManagedStore:
    """An open store for one environment (migrated and created if needed), and the calls of
    its manager that were dropped without ``await`` (``forgot``, ``refuse_forgotten``)."""

    def __init__(
        self,
        *,
        database_url: str | None,
        store: SqlStore | None,
        environment: str,
        actor: str,
        clock: Clock | None,
    ) -> None:
        if database_url is not None and store is not None:
            raise ConfigurationError("give database_url or store, not both")
        if store is None:
            url = database_url if database_url is not None else Settings().database_url
            migrate_database(url)
            store = open_store(url, clock=clock)
            self.owned = True
        else:
            self.owned = False
        self.store = store
        self.environment = environment
        self.actor = actor
        self._forgotten: list[str] = []
        self._lock = threading.Lock()
        self._ensure_environment()

    def _ensure_environment(self) -> None:
        try:
            with self.store.reading() as uow:
                get_environment(uow, self.environment)
        except NotFound:
            try:
                with self.store.unit_of_work() as uow:
                    create_environment(uow, self.environment, change=Change(actor=self.actor))
            except AlreadyExists:  # another manager created it meanwhile
                pass

    def forgot(self, manager: str, call: str, logger: logging.Logger) -> None:
        """Note (and log) that ``manager.call`` was dropped without ``await``: it did nothing."""
        message = (
            f"{manager}.{call} was called without await: it did nothing;"
            f" write `await manager.{call}`"
        )
        logger.error(message)
        with self._lock:
            self._forgotten.append(message)

    def refuse_forgotten(self) -> None:
        """Raise (once) ``ConfigurationError`` for calls never awaited since the last check."""
        with self._lock:
            forgotten, self._forgotten = self._forgotten, []
        if forgotten:
            more = f" (and {len(forgotten) - 1} more)" if len(forgotten) > 1 else ""
            raise ConfigurationError(forgotten[0] + more, details={"calls": forgotten})

    def close(self) -> None:
        """Close the store if this object opened it."""
        if self.owned:
            self.store.close()
