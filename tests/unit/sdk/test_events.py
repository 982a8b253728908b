"""The SSE line parser the SDK follows the stream with."""

from __future__ import annotations

from rheostat.sdk.events import EventStreamParser, ServerEvent


def _feed(parser: EventStreamParser, text: str) -> list[ServerEvent | bool]:
    found = []
    for line in text.split("\n"):
        parsed = parser.feed(line)
        if parsed is not None:
            found.append(parsed)
    return found


def test_events_are_dispatched_on_a_blank_line_with_their_id_and_name() -> None:
    # Given a stream with a comment, a named event and a multi-line unnamed one
    parser = EventStreamParser()
    text = ': ping\n\nid: 7\nevent: patch\ndata: {"a":1}\n\ndata: one\ndata:two\n\n'

    # When it is fed line by line
    found = _feed(parser, text)

    # Then the comment is True, the events carry their fields; the id is kept for the next one
    assert found == [
        True,
        ServerEvent(event="patch", data='{"a":1}', id="7"),
        ServerEvent(event="message", data="one\ntwo", id="7"),
    ]
    assert parser.last_event_id == "7"


def test_an_event_without_data_is_not_dispatched_but_its_id_counts() -> None:
    # Given an id-only block
    parser = EventStreamParser()

    # When it ends
    found = _feed(parser, "id: 9\n\n")

    # Then nothing is dispatched and the last event id moved
    assert found == []
    assert parser.last_event_id == "9"
