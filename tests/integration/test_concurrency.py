"""Optimistic concurrency with real concurrent writers: separate connections, threads, processes."""

from __future__ import annotations

import multiprocessing
import threading
from typing import Any

import pytest

from rheostat.errors import Conflict
from rheostat.service import (
    Change,
    SqlStore,
    create_environment,
    create_flag,
    flag_history,
    flag_stats,
    get_flag,
    open_store,
    set_rollout_percentage,
    transact,
    update_flag,
)

ENV = "production"
INCREMENTS_PER_PROCESS = 15
PROCESSES = 2


@pytest.fixture
def rollout_flag(store: SqlStore) -> str:
    transact(store, create_environment, ENV, change=Change(actor="setup"))
    transact(
        store,
        create_flag,
        ENV,
        "ramp",
        {"rules": [{"serve": {"split": {"on": 0, "off": 100}}}]},
        change=Change(actor="setup"),
    )
    return "ramp"


def _write_after_barrier(
    url: str, barrier: threading.Barrier, description: str, outcomes: dict[str, Any]
) -> None:
    store = open_store(url)  # its own engine, so its own connection
    try:
        read = transact(store, get_flag, ENV, "ramp")
        barrier.wait(timeout=30)  # both have read version 1 before either writes
        definition = {**read.definition, "description": description}
        try:
            transact(
                store,
                update_flag,
                ENV,
                "ramp",
                definition,
                change=Change(actor=description, expected_version=read.version),
            )
            outcomes[description] = "written"
        except Conflict as error:
            outcomes[description] = error
    finally:
        store.close()


def test_two_racing_writers_one_wins_and_the_other_gets_conflict(
    store: SqlStore, store_url: str, rollout_flag: str
) -> None:
    # Given two threads, each with its own connection, that both read version 1
    barrier = threading.Barrier(2)
    outcomes: dict[str, Any] = {}
    writers = [
        threading.Thread(target=_write_after_barrier, args=(store_url, barrier, name, outcomes))
        for name in ("alice", "bob")
    ]

    # When both write at once, each naming version 1
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=60)

    # Then exactly one write landed, the other was refused, and the winner's change stands
    winners = [name for name, outcome in outcomes.items() if outcome == "written"]
    losers = [outcome for outcome in outcomes.values() if isinstance(outcome, Conflict)]
    assert len(winners) == 1
    assert len(losers) == 1
    assert losers[0].details["current_version"] == 2
    flag = transact(store, get_flag, ENV, rollout_flag)
    assert (flag.version, flag.description) == (2, winners[0])
    assert [v.actor for v in transact(store, flag_history, ENV, rollout_flag)] == [
        winners[0],
        "setup",
    ]


def _increment_rollout(url: str, times: int) -> None:
    """Read-modify-write the rollout percentage ``times`` times, retrying on Conflict."""
    store = open_store(url)
    try:
        for _ in range(times):
            while True:
                read = transact(store, flag_stats, ENV, "ramp")
                percent = (read.rollout_percent or 0) + 1
                try:
                    transact(
                        store,
                        set_rollout_percentage,
                        ENV,
                        "ramp",
                        percent,
                        change=Change(actor="worker", expected_version=read.version),
                    )
                    break
                except Conflict:
                    continue
    finally:
        store.close()


def test_concurrent_processes_lose_no_update(
    store: SqlStore, store_url: str, rollout_flag: str
) -> None:
    # Given processes that each raise the rollout by 1% many times, on their own connections
    context = multiprocessing.get_context("fork")
    workers = [
        context.Process(target=_increment_rollout, args=(store_url, INCREMENTS_PER_PROCESS))
        for _ in range(PROCESSES)
    ]

    # When they run at the same time
    store.close()  # no pooled connection crosses the fork
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)

    # Then every increment is there, each as its own version
    assert [worker.exitcode for worker in workers] == [0] * PROCESSES
    total = INCREMENTS_PER_PROCESS * PROCESSES
    stats = transact(store, flag_stats, ENV, rollout_flag)
    assert stats.rollout_percent == total
    assert stats.version == total + 1
    assert stats.versions == total + 1
