"""Server-Sent Events, parsed line by line (the WHATWG ``text/event-stream`` rules we need).

Pure: feed it lines (without their line ending), get ``ServerEvent`` values out. Comments
(``: ping``) come out as ``None`` so a caller can note that the connection is alive.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EventStreamParser", "ServerEvent"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerEvent:
    """One dispatched event: ``event`` (``message`` when unnamed), ``data`` and ``id``."""

    event: str
    data: str
    id: str | None


class EventStreamParser:
    """Accumulates fields until a blank line dispatches the event."""

    def __init__(self) -> None:
        self._event = ""
        self._data: list[str] = []
        self._id: str | None = None
        self.last_event_id: str | None = None

    def feed(self, line: str) -> ServerEvent | bool | None:
        """Take one line; return an event when one is complete, ``True`` for a comment."""
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return True
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
        return None

    def _dispatch(self) -> ServerEvent | None:
        if self._id is not None:
            self.last_event_id = self._id
        if not self._data:
            self._event, self._id = "", None
            return None
        event = ServerEvent(
            event=self._event or "message", data="\n".join(self._data), id=self.last_event_id
        )
        self._event, self._data, self._id = "", [], None
        return event
