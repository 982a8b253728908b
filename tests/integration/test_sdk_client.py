"""``rheostat.Client(url=...)`` against real ``rheostat serve`` processes, and across forks."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import socket
import threading
from pathlib import Path

from live_servers import (
    Keys,
    LiveServer,
    free_port,
    post_as_admin,
    prepare_database,
    read_metric_totals,
    roll_out_flag,
    start_server,
)
from live_servers import rheostat as rheostat_cli

import rheostat
from rheostat.clock import SystemClock
from rheostat.flags import Reason
from rheostat.metrics import WindowKind
from rheostat.sdk import ClientStatus, FlagsChanged, SyncOptions

WAIT_S = 30.0
"""A guard against hanging, never a measurement."""


def _changes_of(client: rheostat.Client, key: str) -> threading.Event:
    changed = threading.Event()

    def listener(change: FlagsChanged) -> None:
        if key in change.keys:
            changed.set()

    client.add_change_listener(listener)
    return changed


def test_a_client_downloads_follows_a_kill_and_writes_its_backup(
    live_server: LiveServer, live_database: tuple[str, Keys], tmp_path: Path
) -> None:
    # Given a flag on for everyone and a client of the server
    _, keys = live_database
    roll_out_flag(live_server, keys, "sdk-kill", percent=100)
    backup = tmp_path / "flags.json"
    with rheostat.Client(url=live_server.url, api_key=keys.sdk_token, backup_path=backup) as client:
        before = client.evaluate("sdk-kill", "user-1", default=False)
        status_before = client.status
        killed = _changes_of(client, "sdk-kill")

        # When the flag is killed through the API
        post_as_admin(live_server, keys, "/api/v1/flags/sdk-kill/kill", {"reason": "5xx"})
        assert killed.wait(WAIT_S)

        # Then the client serves the kill, and the backup holds the revision it runs
        after = client.evaluate("sdk-kill", "user-1", default=False)
        saved = json.loads(backup.read_text())
        assert saved["revision"] == client.revision
    assert status_before is ClientStatus.READY
    assert (before.value, before.reason) == (True, Reason.SPLIT)
    assert (after.value, after.reason) == (False, Reason.DISABLED)
    assert saved["document"]["flags"]["sdk-kill"]["enabled"] is False


def _silent_server() -> tuple[socket.socket, str]:
    """A socket that accepts TCP connections (backlog) and never answers a request."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    return listener, f"http://127.0.0.1:{listener.getsockname()[1]}"


def test_a_start_against_a_server_that_hangs_returns_in_time_with_the_backup(
    tmp_path: Path,
) -> None:
    # Given a backup file where a flag is on, and a server that never answers
    backup = tmp_path / "flags.json"
    checkout = {"enabled": True, "variants": {"on": True, "off": False}, "default": "on"}
    document = {"version": 1, "flags": {"checkout": checkout}}
    backup.write_text(json.dumps({"environment": None, "revision": 7, "document": document}))
    listener, url = _silent_server()
    clock = SystemClock()
    options = SyncOptions(read_timeout_s=120.0, connect_timeout_s=120.0)
    try:
        # When a client starts with init_timeout=0.5
        started = clock.monotonic()
        client = rheostat.Client(
            url=url, api_key="rh_sdk_x", backup_path=backup, init_timeout=0.5, options=options
        )
        waited = clock.monotonic() - started
        served = client.evaluate("checkout", "user-1", default=False)
        unknown = client.evaluate("missing", "user-1", default="fallback")
        status = client.status
        client.close()
    finally:
        listener.close()

    # Then it returned (a bound ten times the timeout, not a speed test) serving the backup
    assert waited < 5.0
    assert (served.value, served.reason) == (True, Reason.STALE)
    assert unknown.value == "fallback"
    assert status is ClientStatus.STALE


def test_a_start_with_the_server_down_and_no_backup_serves_the_defaults(tmp_path: Path) -> None:
    # Given nothing listening on a port
    listener, url = _silent_server()
    listener.close()

    # When a client starts
    with rheostat.Client(url=url, api_key="rh_sdk_x", init_timeout=2.0) as client:
        served = client.evaluate("checkout", "user-1", default=False)
        enabled = client.is_enabled("checkout", "user-1", default=True)

    # Then the caller's defaults come back with reason DEFAULT, and nothing raised
    assert (served.value, served.reason) == (False, Reason.DEFAULT)
    assert enabled is True


def _report_after_kill(client: rheostat.Client, key: str, answers: Path) -> None:
    """In a forked child: wait for the kill of ``key``, then write what the child serves."""
    killed = _changes_of(client, key)
    answers.with_suffix(".listening").write_text("yes")
    changed = killed.wait(WAIT_S)
    result = {
        "changed": changed,
        "enabled": client.is_enabled(key, "user-1"),
        "pid": os.getpid(),
        "thread_alive": client._follower is not None and client._follower.is_alive,
    }
    answers.write_text(json.dumps(result))


def _wait_for(path: Path) -> None:
    clock = SystemClock()
    deadline = clock.monotonic() + WAIT_S
    while not path.exists():
        assert clock.monotonic() < deadline, f"{path.name} never appeared"
        clock.sleep(0.02)  # waiting for another process's file, not asserting a time


def test_a_fork_child_keeps_following_the_server(
    live_server: LiveServer, live_database: tuple[str, Keys], tmp_path: Path
) -> None:
    # Given a client created before os.fork(), as gunicorn --preload does
    _, keys = live_database
    roll_out_flag(live_server, keys, "fork-kill", percent=100)
    client = rheostat.Client(url=live_server.url, api_key=keys.sdk_token)
    answers = tmp_path / "child.json"
    pid = os.fork()
    if pid == 0:  # the child: report and leave without running the parent's clean-up
        try:
            _report_after_kill(client, "fork-kill", answers)
        finally:
            os._exit(0)
    try:
        # When the flag is killed once the child listens
        _wait_for(answers.with_suffix(".listening"))
        post_as_admin(live_server, keys, "/api/v1/flags/fork-kill/kill", {"reason": "5xx"})
        _wait_for(answers)
    finally:
        os.waitpid(pid, 0)
        client.close()

    # Then the child, on its own fresh thread and connection, applied the kill
    result = json.loads(answers.read_text())
    assert result == {"changed": True, "enabled": False, "pid": pid, "thread_alive": True}


def _multiprocessing_worker(client: rheostat.Client, answers: str) -> None:
    _report_after_kill(client, "worker-kill", Path(answers))


def test_a_multiprocessing_worker_forked_from_a_client_keeps_following(
    live_server: LiveServer, live_database: tuple[str, Keys], tmp_path: Path
) -> None:
    # Given a client, and a multiprocessing worker (fork start method) that inherits it
    _, keys = live_database
    roll_out_flag(live_server, keys, "worker-kill", percent=100)
    answers = tmp_path / "worker.json"
    with rheostat.Client(url=live_server.url, api_key=keys.sdk_token) as client:
        worker = multiprocessing.get_context("fork").Process(
            target=_multiprocessing_worker, args=(client, str(answers))
        )
        worker.start()
        try:
            # When the flag is killed
            _wait_for(answers.with_suffix(".listening"))
            post_as_admin(live_server, keys, "/api/v1/flags/worker-kill/kill", {"reason": "5xx"})
            _wait_for(answers)
        finally:
            worker.join(WAIT_S)

    # Then the worker saw it
    result = json.loads(answers.read_text())
    assert (result["changed"], result["enabled"], result["thread_alive"]) == (True, False, True)
    assert worker.exitcode == 0


def test_tracked_values_reach_the_metric_windows_of_the_variants_served(
    live_server: LiveServer, live_database: tuple[str, Keys]
) -> None:
    # Given a flag ramped to 50 % and a client of the server
    database_url, keys = live_database
    roll_out_flag(live_server, keys, "tracked", percent=50)
    users = [f"user-{index}" for index in range(200)]
    with rheostat.Client(url=live_server.url, api_key=keys.sdk_token) as client:
        served = {user: client.variant("tracked", user).name for user in users}

        # When every user's request is tracked: an error for those on "on"
        for user in users:
            client.track("errors", user, served[user] == "on")
    # (closing the client flushed the open window)

    # Then the stored windows hold every trial, under the variant each user was served
    totals = read_metric_totals(database_url, "tracked", "errors")
    on = sum(1 for variant in served.values() if variant == "on")
    proportion = WindowKind.PROPORTION
    assert (totals[("on", proportion)].n, totals[("on", proportion)].sum) == (on, on)
    assert (totals[("off", proportion)].n, totals[("off", proportion)].sum) == (200 - on, 0)


def test_a_client_resumes_after_the_server_restarts_and_catches_up_on_what_it_missed(
    tmp_path: Path,
) -> None:
    # Given a client of a server, and a flag on
    database_url = f"sqlite:///{tmp_path / 'rheostat.db'}"
    keys = prepare_database(database_url)
    port = free_port()
    statuses: list[ClientStatus] = []
    with start_server(database_url, port=port) as first:
        roll_out_flag(first, keys, "restart-kill", percent=100)
        # retries at most a second apart: the backoff's growth is not what this test is about,
        # and at the default 30 s cap the retry after the restart could wait half a minute
        options = SyncOptions(backoff_max_s=1.0)
        client = rheostat.Client(url=first.url, api_key=keys.sdk_token, options=options)
        client.add_status_listener(statuses.append)
        before = client.is_enabled("restart-kill", "user-1")
    try:
        # When the server is down, the flag is killed meanwhile (CLI), and a server comes back
        rheostat_cli("flags", "kill", "restart-kill", "--reason", "5xx", database_url=database_url)
        killed = _changes_of(client, "restart-kill")
        with start_server(database_url, port=port):
            assert killed.wait(WAIT_S)
            after = client.is_enabled("restart-kill", "user-1")
            _wait_for_status(client, ClientStatus.READY)
    finally:
        client.close()

    # Then the client went stale, reconnected on its own and applied the kill it missed
    assert (before, after) == (True, False)
    assert ClientStatus.STALE in statuses


def _wait_for_status(client: rheostat.Client, status: ClientStatus) -> None:
    clock = SystemClock()
    deadline = clock.monotonic() + WAIT_S
    while client.status is not status:
        assert clock.monotonic() < deadline, f"never {status}"
        clock.sleep(0.02)  # waiting for the sync thread, not asserting a time


def test_an_async_client_starts_without_blocking_the_event_loop_and_follows_a_kill(
    live_server: LiveServer, live_database: tuple[str, Keys]
) -> None:
    # Given a flag on
    _, keys = live_database
    roll_out_flag(live_server, keys, "async-kill", percent=100)

    async def scenario() -> tuple[bool, bool, int]:
        ticks = 0
        starting = True

        async def ticker() -> None:
            nonlocal ticks
            while starting:
                ticks += 1
                await asyncio.sleep(0)

        # When an AsyncClient connects while another task runs, then the flag is killed
        task = asyncio.create_task(ticker())
        async with await rheostat.AsyncClient.connect(
            url=live_server.url, api_key=keys.sdk_token
        ) as client:
            starting = False
            await task
            before = client.is_enabled("async-kill", "user-1")
            changed = asyncio.Event()
            client.add_change_listener(
                lambda change: changed.set() if "async-kill" in change.keys else None
            )
            await asyncio.to_thread(
                post_as_admin, live_server, keys, "/api/v1/flags/async-kill/kill", {"reason": "5xx"}
            )
            await asyncio.wait_for(changed.wait(), WAIT_S)
            return before, client.is_enabled("async-kill", "user-1"), ticks

    before, after, ticks = asyncio.run(scenario())

    # Then the loop ran during the start, and the listener ran on the loop after the kill
    assert ticks > 1
    assert (before, after) == (True, False)
