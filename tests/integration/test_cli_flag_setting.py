"""``rheostat flags set`` under concurrency: without --expected-version it never conflicts."""

from __future__ import annotations

import threading

import pytest

from rheostat.cli.flag_setting import FlagSetting, write_flag_setting
from rheostat.errors import Conflict, NotFound, RheostatError, ValidationError
from rheostat.service import (
    Change,
    SqlStore,
    create_environment,
    create_flag,
    flag_history,
    get_flag,
    open_store,
    transact,
)

ENV = "production"
RUNS_PER_WRITER = 50


@pytest.fixture
def flag(store: SqlStore) -> str:
    transact(store, create_environment, ENV, change=Change(actor="setup"))
    transact(store, create_flag, ENV, "checkout", {}, change=Change(actor="setup"))
    return "checkout"


def _describe_repeatedly(url: str, writer: str, failures: list[RheostatError]) -> None:
    store = open_store(url)  # its own engine, so its own connection
    try:
        for run in range(RUNS_PER_WRITER):
            setting = FlagSetting(description=f"{writer} {run}")
            try:
                transact(
                    store, write_flag_setting, ENV, "checkout", setting, change=Change(actor=writer)
                )
            except RheostatError as error:
                failures.append(error)
    finally:
        store.close()


def test_concurrent_description_changes_never_conflict(
    store: SqlStore, store_url: str, flag: str
) -> None:
    # Given two writers, each on its own connection, setting the description 50 times
    failures: list[RheostatError] = []
    writers = [
        threading.Thread(target=_describe_repeatedly, args=(store_url, name, failures))
        for name in ("alice", "bob")
    ]

    # When they run at the same time, without an expected version
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=300)

    # Then not one run failed, and every run wrote a version
    assert failures == []
    assert len(transact(store, flag_history, ENV, flag)) == 1 + 2 * RUNS_PER_WRITER


def test_a_description_keeps_the_rest_of_the_definition(store: SqlStore, flag: str) -> None:
    # Given a flag that is off
    transact(
        store,
        write_flag_setting,
        ENV,
        flag,
        FlagSetting(definition={"enabled": False}),
        change=Change(actor="alice"),
    )

    # When only its description is set
    record, created = transact(
        store,
        write_flag_setting,
        ENV,
        flag,
        FlagSetting(description="New checkout"),
        change=Change(actor="bob"),
    )

    # Then it is still off, and described
    assert not created
    assert record.definition["enabled"] is False
    assert record.description == "New checkout"


def test_a_stale_expected_version_still_conflicts(store: SqlStore, flag: str) -> None:
    # Given a flag changed since version 1 was read
    transact(
        store, write_flag_setting, ENV, flag, FlagSetting(description="a"), change=Change(actor="a")
    )

    # When a change names version 1 / Then it is refused and nothing changes
    with pytest.raises(Conflict):
        transact(
            store,
            write_flag_setting,
            ENV,
            flag,
            FlagSetting(description="b"),
            change=Change(actor="b", expected_version=1),
        )
    assert transact(store, get_flag, ENV, flag).description == "a"


def test_a_missing_flag_is_created_but_not_with_an_expected_version(store: SqlStore) -> None:
    # Given an environment without flag new
    transact(store, create_environment, ENV, change=Change(actor="setup"))

    # When it is set with an expected version / Then it is not found
    with pytest.raises(NotFound):
        transact(
            store,
            write_flag_setting,
            ENV,
            "new",
            FlagSetting(description="x"),
            change=Change(actor="a", expected_version=1),
        )

    # When it is set without / Then it is created at version 1
    record, created = transact(
        store,
        write_flag_setting,
        ENV,
        "new",
        FlagSetting(description="x"),
        change=Change(actor="a"),
    )
    assert created
    assert (record.version, record.description) == (1, "x")


def test_setting_nothing_on_an_existing_flag_is_refused(store: SqlStore, flag: str) -> None:
    # Given / When an existing flag is set with neither definition nor description / Then
    with pytest.raises(ValidationError, match="pass --file, --definition or --description"):
        transact(store, write_flag_setting, ENV, flag, FlagSetting(), change=Change(actor="a"))
