"""``GET /api/v1/client/stream`` on real ``rheostat serve`` processes (SQLite and PostgreSQL)."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from live_servers import (
    Keys,
    LiveServer,
    data_of,
    open_stream,
    prepare_database,
    rheostat,
    start_server,
)

from rheostat.api.serving import GRACE_S

PARAMS = {"environment": "production"}


@pytest.fixture(scope="module")
def server(live_database: tuple[str, Keys]) -> Iterator[LiveServer]:
    with start_server(live_database[0], stream_keepalive_s="0.2") as live:
        yield live


def _create_flag(url: str, keys: Keys, key: str) -> None:
    with httpx.Client(base_url=url, headers=keys.admin, timeout=10.0) as http:
        created = http.post("/api/v1/flags", params=PARAMS, json={"key": key})
        assert created.status_code == 201, created.text
        enabled = http.post(f"/api/v1/flags/{key}/rollout", params=PARAMS, json={"percent": 100})
        assert enabled.status_code == 200, enabled.text


def _kill(url: str, keys: Keys, key: str) -> None:
    with httpx.Client(base_url=url, headers=keys.admin, timeout=10.0) as http:
        killed = http.post(f"/api/v1/flags/{key}/kill", params=PARAMS, json={"reason": "5xx"})
        assert killed.status_code == 200, killed.text


def test_a_stream_sends_the_document_then_each_change_as_a_patch(
    server: LiveServer, live_database: tuple[str, Keys]
) -> None:
    # Given a flag served to everyone, and a client following the stream
    _, keys = live_database
    _create_flag(server.url, keys, "stream-kill")
    with open_stream(server.url, keys.sdk) as stream:
        first = stream.next_event()

        # When the flag is killed over the API
        _kill(server.url, keys, "stream-kill")
        change = stream.next_event()

    # Then the client got the whole document, then a patch of that one flag, ids = revisions
    document = data_of(first)
    assert first.event == "flags"
    assert document["flags"]["stream-kill"]["enabled"] is True  # type: ignore[index]
    patch = data_of(change)
    assert change.event == "patch"
    assert int(change.id or 0) == patch["revision"] == int(first.id or 0) + 1
    assert patch["base"] == int(first.id or 0)
    assert list(patch["flags"]) == ["stream-kill"]  # type: ignore[call-overload]
    assert patch["flags"]["stream-kill"]["enabled"] is False  # type: ignore[index]


def test_a_client_that_is_up_to_date_gets_nothing_again_and_one_behind_gets_the_document(
    server: LiveServer, live_database: tuple[str, Keys]
) -> None:
    # Given the current revision, as GET /client/flags names it
    _, keys = live_database
    _create_flag(server.url, keys, "resume-flag")
    flags = httpx.get(f"{server.url}/api/v1/client/flags", headers=keys.sdk, timeout=10.0)
    revision = flags.headers["X-Rheostat-Revision"]

    # When one client resumes from it and another from the revision before
    with (
        open_stream(server.url, keys.sdk, last_event_id=revision) as current,
        open_stream(server.url, keys.sdk, last_event_id=str(int(revision) - 1)) as behind,
    ):
        caught_up = behind.next_event()
        _kill(server.url, keys, "resume-flag")
        resumed = current.next_event()

    # Then the up-to-date client's first event is the next change; the other got the document
    assert caught_up.event == "flags"
    assert caught_up.id == revision
    assert resumed.event == "patch"
    assert data_of(resumed)["base"] == int(revision)


def test_a_change_from_another_process_reaches_the_stream_and_idle_streams_get_keepalives(
    server: LiveServer, live_database: tuple[str, Keys]
) -> None:
    # Given a client following the stream (keep-alives every 0.2 s on this server)
    database_url, keys = live_database
    _create_flag(server.url, keys, "cli-kill")
    with open_stream(server.url, keys.sdk) as stream:
        stream.next_event()
        stream.next_comment()

        # When the CLI, another process on the same SQLite file, kills the flag
        rheostat("flags", "kill", "cli-kill", "--reason", "5xx", database_url=database_url)
        change = stream.next_event()

    # Then the server's revision poll found it and streamed it
    assert change.event == "patch"
    assert data_of(change)["flags"]["cli-kill"]["enabled"] is False  # type: ignore[index]


def test_the_stream_refuses_a_key_of_another_environment_and_an_unknown_one(
    server: LiveServer, live_database: tuple[str, Keys]
) -> None:
    # Given the sdk key of production
    _, keys = live_database
    with httpx.Client(base_url=server.url, timeout=10.0) as http:
        # When it asks for staging, or no key is sent
        staging = {"environment": "staging"}
        other = http.get("/api/v1/client/stream", params=staging, headers=keys.sdk)
        anonymous = http.get("/api/v1/client/stream")

    # Then 403 and 401, in the one error shape
    assert other.status_code == 403
    assert other.json()["error"]["code"] == "permission_denied"
    assert anonymous.status_code == 401


def test_an_unchanged_document_is_not_modified_and_carries_its_revision(
    server: LiveServer, live_database: tuple[str, Keys]
) -> None:
    # Given the document and its ETag
    _, keys = live_database
    with httpx.Client(base_url=server.url, headers=keys.sdk, timeout=10.0) as http:
        first = http.get("/api/v1/client/flags")
        # When it is asked for again with If-None-Match, before and after a change
        again = http.get("/api/v1/client/flags", headers={"If-None-Match": first.headers["ETag"]})
        _create_flag(server.url, keys, "etag-flag")
        changed = http.get("/api/v1/client/flags", headers={"If-None-Match": first.headers["ETag"]})

    # Then 304 with no body while unchanged, 200 with a new ETag and a higher revision after
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["X-Rheostat-Revision"] == first.headers["X-Rheostat-Revision"]
    assert changed.status_code == 200
    assert changed.headers["ETag"] != first.headers["ETag"]
    assert int(changed.headers["X-Rheostat-Revision"]) > int(first.headers["X-Rheostat-Revision"])


@pytest.mark.postgres
def test_a_kill_written_through_replica_a_reaches_stream_clients_of_replica_b(
    postgres_url: str, tmp_path: Path
) -> None:
    # Given two replicas on one PostgreSQL database (the poll far too slow to be what carries
    # the change), and a client following replica B
    keys = prepare_database(postgres_url)
    slow_poll = {"stream_poll_s": "3600", "stream_keepalive_s": "0.5"}
    with (
        start_server(postgres_url, **slow_poll) as replica_a,
        start_server(postgres_url, **slow_poll) as replica_b,
    ):
        _create_flag(replica_a.url, keys, "checkout")
        with open_stream(replica_b.url, keys.sdk) as stream:
            first = stream.next_event()

            # When the kill is written through replica A
            _kill(replica_a.url, keys, "checkout")
            change = stream.next_event()

    # Then replica B heard it over LISTEN/NOTIFY and streamed the patch
    assert data_of(first)["flags"]["checkout"]["enabled"] is True  # type: ignore[index]
    assert change.event == "patch"
    assert data_of(change)["flags"]["checkout"]["enabled"] is False  # type: ignore[index]
    assert int(change.id or 0) > int(first.id or 0)


def test_a_stopping_server_ends_its_streams_cleanly_instead_of_waiting_on_them(
    tmp_path: Path,
) -> None:
    # Given a server with a client following its stream
    database_url = f"sqlite:///{tmp_path / 'rheostat.db'}"
    keys = prepare_database(database_url)
    with start_server(database_url) as live, open_stream(live.url, keys.sdk) as stream:
        assert stream.next_event().event == "flags"

        # When the server is told to stop (SIGTERM, as a process manager does)
        live.process.send_signal(signal.SIGTERM)

        # Then the stream ends as a complete response (no reset: an open stream would
        # otherwise hold the shutdown until uvicorn cancels it after its grace period)
        with pytest.raises(AssertionError, match="the stream ended"):
            stream.next_event()
        # (uvicorn re-raises the signal once it has shut down, so the status names it)
        assert live.process.wait(timeout=GRACE_S + 30) in (0, -signal.SIGTERM)
        log = live.process.stderr.read() if live.process.stderr else ""
    assert "timeout graceful shutdown exceeded" not in log
    assert "Application shutdown complete" in log
