"""``serve_app(app, ...)``: run the application under uvicorn, and stop it promptly.

uvicorn stops on SIGTERM or SIGINT by refusing new connections and waiting for open responses
to end. An SSE stream never ends by itself (it lasts ``RHEOSTAT_STREAM_MAX_S``), so a replica
with SDK clients would wait for its whole grace period and be killed: its clients would see a
reset, not an end. Here a stopping server first ends every stream cleanly; each client
reconnects at once, to another replica if there is one, with ``Last-Event-ID``, and misses
nothing. Other requests still get ``GRACE_S`` to finish.
"""

from __future__ import annotations

import socket

import uvicorn
from fastapi import FastAPI

from rheostat.api.stream_hub import StreamHub

__all__ = ["GRACE_S", "serve_app"]

GRACE_S = 20
"""How long a stopping server waits for requests in flight before it cancels them (below the
30 s that process managers such as Kubernetes give before SIGKILL)."""


class _DrainingServer(uvicorn.Server):
    """A uvicorn server that ends the app's SSE streams before it waits for connections."""

    def __init__(self, config: uvicorn.Config, app: FastAPI) -> None:
        super().__init__(config)
        self._app = app

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        hub = getattr(self._app.state, "stream_hub", None)
        if isinstance(hub, StreamHub):
            hub.end_streams()
        await super().shutdown(sockets)


def serve_app(app: FastAPI, *, host: str, port: int, log_level: str = "info") -> None:
    """Serve ``app`` until SIGINT or SIGTERM, then drain it (see the module's text)."""
    config = uvicorn.Config(
        app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=GRACE_S
    )
    _DrainingServer(config, app).run()
