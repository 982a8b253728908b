"""Read models: the SDK snapshot and its etag, rollout status, flag stats, health."""

from __future__ import annotations

from pathlib import Path

import pytest

from rheostat.errors import NotFound
from rheostat.flags import Context, FlagSet
from rheostat.service import (
    Change,
    FlagState,
    HealthStatus,
    SqlStore,
    check_health,
    create_environment,
    create_flag,
    flag_stats,
    flag_summaries,
    kill_flag,
    open_store,
    set_rollout_percentage,
    snapshot,
    transact,
)
from rheostat.store.schema import head_revision


@pytest.fixture
def environments(store: SqlStore) -> SqlStore:
    transact(store, create_environment, "production", change=Change(actor="alice"))
    transact(store, create_environment, "staging", change=Change(actor="alice"))
    transact(store, create_flag, "production", "new-checkout", {}, change=Change(actor="alice"))
    transact(
        store,
        set_rollout_percentage,
        "production",
        "new-checkout",
        25,
        change=Change(actor="alice"),
    )
    transact(
        store,
        create_flag,
        "production",
        "hybrid-search",
        {"description": "ES"},
        change=Change(actor="alice"),
    )
    transact(
        store,
        create_flag,
        "staging",
        "new-checkout",
        {"enabled": False},
        change=Change(actor="alice"),
    )
    return store


def test_the_snapshot_is_a_loadable_document_with_versions(environments: SqlStore) -> None:
    # Given flags in production / When its snapshot is taken
    taken = transact(environments, snapshot, "production")

    # Then SDKs can build a FlagSet from it, and each flag carries its version
    flags = FlagSet.from_dict(taken.document)
    assert flags.keys() == ["hybrid-search", "new-checkout"]
    assert flags.evaluate("new-checkout", Context(key="user-1")).version == 2
    assert taken.environment == "production"
    assert taken.etag.startswith('"')
    assert taken.etag.endswith('"')


def test_the_etag_changes_exactly_when_the_flags_do(environments: SqlStore) -> None:
    # Given a snapshot
    first = transact(environments, snapshot, "production")

    # When nothing changes, then when a flag does
    same = transact(environments, snapshot, "production")
    transact(
        environments,
        set_rollout_percentage,
        "production",
        "new-checkout",
        30,
        change=Change(actor="alice"),
    )
    changed = transact(environments, snapshot, "production")

    # Then the etag is stable, then different; other environments keep theirs
    assert same.etag == first.etag
    assert changed.etag != first.etag
    assert transact(environments, snapshot, "staging").etag != changed.etag


def test_rollout_status_lists_every_flag_with_state_and_percentage(
    environments: SqlStore,
) -> None:
    # Given flags in two environments, one killed
    transact(environments, kill_flag, "production", "hybrid-search", change=Change(actor="oncall"))

    # When the view is read for everything, then for staging only
    every = transact(environments, flag_summaries)
    staging = transact(environments, flag_summaries, "staging")

    # Then each row shows environment, key, state and share
    assert [(r.environment, r.key, r.state, r.rollout_percent) for r in every] == [
        ("production", "hybrid-search", FlagState.DISABLED, None),
        ("production", "new-checkout", FlagState.PERCENTAGE, 25.0),
        ("staging", "new-checkout", FlagState.DISABLED, None),
    ]
    assert [r.version for r in staging] == [1]
    with pytest.raises(NotFound):
        transact(environments, flag_summaries, "nowhere")


def test_flag_stats_summarise_one_flag(environments: SqlStore) -> None:
    # Given / When
    stats = transact(environments, flag_stats, "production", "new-checkout")

    # Then
    assert (stats.state, stats.rollout_percent, stats.versions, stats.rules) == (
        FlagState.PERCENTAGE,
        25.0,
        2,
        1,
    )
    assert stats.last_changed_by == "alice"
    assert transact(environments, flag_stats, "production", "hybrid-search").state == FlagState.OFF


def test_health_reports_the_database_and_engaged_kill_switches(environments: SqlStore) -> None:
    # Given one flag killed in production
    transact(environments, kill_flag, "production", "hybrid-search", change=Change(actor="oncall"))

    # When health is checked
    health = check_health(environments)

    # Then the database is connected and every flag's kill switch is reported
    assert health.status == HealthStatus.HEALTHY
    assert health.database == "connected"
    assert health.schema_revision == head_revision()
    assert health.kill_switches == {
        "production": {"hybrid-search": True, "new-checkout": False},
        "staging": {"new-checkout": True},
    }
    assert health.kill_switches_engaged == 2


def test_health_is_unhealthy_before_migration(store_url: str) -> None:
    # Given a store on an empty, unmigrated database
    store = open_store(store_url)

    # When / Then
    health = check_health(store)
    store.close()
    assert health.status == HealthStatus.UNHEALTHY
    assert health.database == "missing"
    assert health.error is not None
    assert "rheostat migrate-db" in health.error
    assert "None" not in health.error


def test_health_is_unhealthy_when_the_database_is_unreachable(tmp_path: Path) -> None:
    # Given a database that cannot be opened
    store = open_store(f"sqlite:///{tmp_path / 'missing-dir' / 'rheostat.db'}")

    # When / Then health reports it instead of raising
    health = check_health(store)
    assert health.status == HealthStatus.UNHEALTHY
    assert health.database == "unreachable"
    assert health.error
