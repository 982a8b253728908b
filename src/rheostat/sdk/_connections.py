"""The connections a ``Follower``'s threads open, so that ``close()`` can cut them at once.

Shutting a socket down (unlike closing it) wakes a thread blocked reading it, with EOF: a
stream, a download or a heartbeat waiting for its answer. httpcore reports every connection it
opens to a request's ``trace`` extension; ``OpenedSockets.trace`` is that callback.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import weakref
from collections.abc import Mapping
from typing import Any

__all__ = ["OpenedSockets"]

_CONNECTED = frozenset({"connection.connect_tcp.complete", "connection.start_tls.complete"})
"""httpcore's trace events whose ``return_value`` is a new network stream (TLS wraps the TCP
socket in a new one, so both are kept)."""


class OpenedSockets:
    """The sockets opened for one follower, held weakly (a closed one is forgotten).

    One lock orders ``trace`` against ``shut_down_all``: a socket opened after the follower
    stopped is shut down as it is reported, so no request starts waiting after ``close()``.
    """

    def __init__(self, *, stopped: threading.Event) -> None:
        """Remember sockets until ``stopped`` is set; from then on, shut them down."""
        self._stopped = stopped
        self._lock = threading.Lock()
        self._sockets: weakref.WeakSet[socket.socket] = weakref.WeakSet()

    def trace(self, name: str, info: Mapping[str, Any]) -> None:
        """httpcore's ``trace`` extension: remember each socket a connection opens."""
        if name not in _CONNECTED:
            return
        opened = info["return_value"].get_extra_info("socket")
        if not isinstance(opened, socket.socket):
            return
        with self._lock:
            self._sockets.add(opened)
            if not self._stopped.is_set():
                return
        _shut_down(opened)

    def shut_down_all(self) -> None:
        """Shut down every socket still open (the caller has set ``stopped``)."""
        with self._lock:
            opened = list(self._sockets)
        for each in opened:
            _shut_down(each)


def _shut_down(opened: socket.socket) -> None:
    with contextlib.suppress(OSError):  # closed already
        opened.shutdown(socket.SHUT_RDWR)
