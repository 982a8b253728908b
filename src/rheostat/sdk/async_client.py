"""``AsyncClient``: the ``Client`` for asyncio applications.

Evaluation is in-process and never waits, so it stays synchronous (no ``await`` on the hot
path). What would block an event loop is starting (waiting up to ``init_timeout`` for the
first download) and closing (joining the sync thread): both run in a worker thread.
Listeners are called on the event loop that created the client.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rheostat.flags import Context, Evaluation, Variant
from rheostat.sdk.client import Client, FlagsChanged
from rheostat.sdk.follow import ClientStatus, SyncOptions

__all__ = ["AsyncClient"]


class AsyncClient:
    """``await AsyncClient.connect(url=..., api_key=...)``; evaluate without ``await``."""

    def __init__(self, client: Client, loop: asyncio.AbstractEventLoop) -> None:
        """Wrap a started ``Client``; prefer ``connect``."""
        self._client = client
        self._loop = loop

    @classmethod
    async def connect(  # the same keyword names as Client
        cls,
        *,
        url: str,
        api_key: str | None = None,
        environment: str | None = None,
        backup_path: str | Path | None = None,
        init_timeout: float = 2.0,
        options: SyncOptions | None = None,
    ) -> AsyncClient:
        """Start following the server; the event loop keeps running while it waits."""
        client = await asyncio.to_thread(
            Client,
            url=url,
            api_key=api_key,
            environment=environment,
            backup_path=backup_path,
            init_timeout=init_timeout,
            options=options,
        )
        return cls(client, asyncio.get_running_loop())

    @property
    def status(self) -> ClientStatus:
        """As ``Client.status``."""
        return self._client.status

    @property
    def revision(self) -> int | None:
        """As ``Client.revision``."""
        return self._client.revision

    def is_enabled(self, key: str, context: Context | str, default: bool = False) -> bool:
        """As ``Client.is_enabled``: never raises, never waits."""
        return self._client.is_enabled(key, context, default)

    def variant(self, key: str, context: Context | str) -> Variant:
        """As ``Client.variant``."""
        return self._client.variant(key, context)

    def evaluate(self, key: str, context: Context | str, default: Any = None) -> Evaluation:
        """As ``Client.evaluate``."""
        return self._client.evaluate(key, context, default)

    def track(self, metric: str, context: Context | str, value: float | bool = True) -> None:
        """As ``Client.track`` (a dict update; sending happens in the background)."""
        self._client.track(metric, context, value)

    def add_change_listener(self, listener: Callable[[FlagsChanged], None]) -> None:
        """Call ``listener`` on this event loop after each change."""
        self._client.add_change_listener(lambda change: self._on_loop(listener, change))

    def add_status_listener(self, listener: Callable[[ClientStatus], None]) -> None:
        """Call ``listener`` on this event loop when the status changes."""
        self._client.add_status_listener(lambda status: self._on_loop(listener, status))

    def _on_loop(self, listener: Callable[[Any], None], value: object) -> None:
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(listener, value)

    async def aclose(self) -> None:
        """Flush metrics and stop following, off the event loop."""
        await asyncio.to_thread(self._client.close)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
