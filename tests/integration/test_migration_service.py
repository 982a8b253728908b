"""Parity runs in the store: alerts, /health, gate metrics, and a release plan that rolls a
migration stage back like any flag. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from rheostat import Context, FlagSet, service
from rheostat.api import create_app
from rheostat.backfill import ChunkSum
from rheostat.clock import FixedClock
from rheostat.errors import NotFound
from rheostat.migrate import Stage, assess_parity
from rheostat.rollout import plan_from_text
from rheostat.rollout.state import Command, CommandKind, Phase
from rheostat.sdk.migrator import Migrator
from rheostat.service import AlertSeverity, AlertStatus, Change, SqlStore, transact
from rheostat.settings import Settings

ENV = "production"
SETUP = Change(actor="setup")
PLAN = """
plan: revenue-live
flag: migrate.revenue.live
environment: production
stages:
  - ramp: {percent: 10, bake: 1h}
  - ramp: {percent: 100}
gates:
  - {name: parity, metric: parity_row_delta, max: 1000, mode: rollback}
"""


def parity(old_rows: int, new_rows: int, **groups: tuple[int, int]) -> object:
    return assess_parity(
        "revenue",
        old_table=ChunkSum(old_rows, old_rows, old_rows),
        new_table=ChunkSum(new_rows, new_rows, new_rows),
        old_groups={name: ChunkSum(o, o, o) for name, (o, _) in groups.items()},
        new_groups={name: ChunkSum(n, n, n) for name, (_, n) in groups.items()},
        group_by="org_id" if groups else None,
    )


@pytest.fixture
def ready(store: SqlStore) -> SqlStore:
    transact(store, service.create_environment, ENV, change=SETUP)
    created = transact(store, service.define_stage_flags, ENV, "revenue", change=SETUP)
    assert created == [
        "migrate.revenue.dual_write",
        "migrate.revenue.shadow",
        "migrate.revenue.live",
        "migrate.revenue.rampdown",
        "migrate.revenue.complete",
    ]
    return store


def record(store: SqlStore, report: object) -> service.ParityRunRecord:
    return transact(
        store, service.record_parity_run, ENV, report, change=Change(actor="parity-cron")
    )


def test_stage_flags_are_created_once_and_all_off(ready: SqlStore) -> None:
    again = transact(ready, service.define_stage_flags, ENV, "revenue", change=SETUP)
    assert again == []
    flags = FlagSet.from_dict(transact(ready, service.snapshot, ENV).document)
    assert Migrator("revenue", flags).stage(Context(key="org-1")) is Stage.OFF


def test_a_critical_run_fires_an_alert_that_resolves_when_parity_returns(
    ready: SqlStore, clock: FixedClock
) -> None:
    # When a run finds 1500 rows missing in the new table
    run = record(ready, parity(10_000, 8_500))
    # Then it is stored, and a critical alert about the migration fires
    assert (run.level, run.action) == ("critical", "rollback")
    [alert] = transact(ready, service.list_alerts, environment=ENV)
    assert (alert.kind, alert.subject, alert.severity) == (
        "migration.parity",
        "migration:revenue",
        AlertSeverity.CRITICAL,
    )
    assert "row delta -1500 (old 10000, new 8500)" in alert.message
    # When a later run is a warning, the same alert changes severity
    clock.advance(timedelta(minutes=5))
    record(ready, parity(10_000, 9_800))
    [alert] = transact(ready, service.list_alerts, environment=ENV)
    assert alert.severity is AlertSeverity.WARNING
    # When parity is back within 10 rows, it resolves
    clock.advance(timedelta(minutes=5))
    record(ready, parity(10_000, 9_995))
    [alert] = transact(ready, service.list_alerts, environment=ENV)
    assert alert.status is AlertStatus.RESOLVED
    runs = transact(ready, service.list_parity_runs, ENV, "revenue")
    assert [r.level for r in runs] == ["ok", "warning", "critical"]


def test_health_shows_each_migrations_newest_parity(
    ready: SqlStore, store_url: str, clock: FixedClock
) -> None:
    # Given two runs, the newest with one critical pilot org
    record(ready, parity(100, 100))
    clock.advance(timedelta(minutes=1))
    record(ready, parity(5000, 4990, **{"17": (3000, 1000), "42": (10, 10)}))
    # When /health is asked, through the HTTP API
    assert service.check_health(ready).migrations[0]["level"] == "critical"
    with TestClient(create_app(Settings(database_url=store_url), clock=clock)) as http:
        body = http.get("/health").json()
    # Then its migrations section holds the newest run, without its groups
    [migration] = body["migrations"]
    assert migration["migration"] == "revenue"
    assert migration["environment"] == ENV
    assert migration["level"] == "critical"
    assert migration["action"] == "rollback_groups"
    assert migration["critical_groups"] == ["17"]
    assert migration["worst_group_delta"] == 2000
    assert "groups" not in migration


def test_the_api_lists_newest_runs_and_one_migrations_history(
    ready: SqlStore, store_url: str, clock: FixedClock
) -> None:
    # Given two runs of one migration, and an admin key
    record(ready, parity(100, 100))
    clock.advance(timedelta(minutes=1))
    record(ready, parity(5000, 4990, **{"17": (3000, 1000), "42": (10, 10)}))
    admin = transact(ready, service.create_api_key, name="ops", scope="admin", change=SETUP)
    headers = {"Authorization": f"Bearer {admin.token}"}
    with TestClient(create_app(Settings(database_url=store_url), clock=clock)) as http:
        newest = http.get("/api/v1/migrations", headers=headers)
        history = http.get(
            "/api/v1/migrations/revenue/parity", params={"environment": ENV}, headers=headers
        )
        unknown = http.get(
            "/api/v1/migrations/revenue/parity", params={"environment": "nowhere"}, headers=headers
        )
        anonymous = http.get("/api/v1/migrations")
    # Then
    assert newest.status_code == 200
    [item] = newest.json()["items"]
    assert (item["migration"], item["level"], item["groups"]) == ("revenue", "critical", [])
    assert history.status_code == 200
    runs = history.json()["items"]
    assert [run["level"] for run in runs] == ["critical", "ok"]
    assert [group["group"] for group in runs[0]["groups"]] == ["17", "42"]
    assert runs[0]["table"]["row_delta"] == -10
    assert unknown.status_code == 404
    assert anonymous.status_code == 401


def test_parity_runs_are_gate_metrics_of_every_stage_flag(
    ready: SqlStore, clock: FixedClock
) -> None:
    start = clock.now()
    record(ready, parity(1000, 700))
    clock.advance(timedelta(minutes=1))
    totals = transact(
        ready,
        service.metric_totals,
        ENV,
        "migrate.revenue.shadow",
        "parity_row_delta",
        since=start,
        until=clock.now(),
    )
    [(variant, _kind)] = totals
    assert variant == "on"
    assert next(iter(totals.values())).sum == 300


def test_a_release_plan_rolls_the_live_stage_back_when_parity_turns_critical(
    ready: SqlStore, clock: FixedClock
) -> None:
    # Given shadow for everyone and a plan ramping live with a parity gate
    transact(
        ready, service.set_rollout_percentage, ENV, "migrate.revenue.shadow", 100, change=SETUP
    )
    transact(ready, service.create_plan, plan_from_text(PLAN), change=SETUP)
    transact(
        ready,
        service.command_plan,
        ENV,
        "revenue-live",
        Command(kind=CommandKind.START, actor="ops"),
    )
    transact(ready, service.tick_plan, ENV, "revenue-live")
    clock.advance(timedelta(minutes=1))
    record(ready, parity(10_000, 10_000))
    clock.advance(timedelta(minutes=1))
    report = transact(ready, service.tick_plan, ENV, "revenue-live")
    assert report.plan.state.phase is Phase.BAKING

    def stages() -> dict[Stage, int]:
        flags = FlagSet.from_dict(transact(ready, service.snapshot, ENV).document)
        migrator = Migrator("revenue", flags)
        counts: dict[Stage, int] = {}
        for n in range(1000):
            stage = migrator.stage(Context(key=f"org-{n}"))
            counts[stage] = counts.get(stage, 0) + 1
        return counts

    live = stages()
    assert 50 < live[Stage.LIVE] < 150
    # When a parity run finds 5000 rows missing
    clock.advance(timedelta(minutes=1))
    record(ready, parity(10_000, 5_000))
    clock.advance(timedelta(minutes=1))
    report = transact(ready, service.tick_plan, ENV, "revenue-live")
    # Then the plan rolled the live flag back: every org is in shadow again
    assert report.plan.state.phase is Phase.ROLLED_BACK
    assert stages() == {Stage.SHADOW: 1000}


def test_recording_in_an_unknown_environment_is_refused(store: SqlStore) -> None:
    with pytest.raises(NotFound):
        transact(store, service.record_parity_run, "nowhere", parity(1, 1), change=SETUP)
