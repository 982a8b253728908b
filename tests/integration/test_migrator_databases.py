# ruff: noqa: S608  # table names are the test's own constants
"""The Migrator routing an application's SQL through the stages, on SQLite and PostgreSQL.

The application's two repositories write and read the real tables; the stage flags come from
a flag file through ``Client.from_file`` (evaluated locally); parity is then measured in the
database. Dual write keeps the tables in sync, shadow reads compare and record a mismatch,
the pilot org reads the new table while it is live, and ``off`` leaves the new table behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from migration_data import create_tables, migration_text, run
from sqlalchemy import Engine, create_engine, text

from rheostat import Client, Context
from rheostat.migrate import ParityLevel, Stage, migration_from_text, stage_flag_definitions
from rheostat.runner.parity import measure_parity
from rheostat.sdk.migrator import Migrator, Mismatch
from rheostat.service import normalize_database_url

PILOT_ORG = 2


class Repository:
    """One table's reads and writes, as an application would write them."""

    def __init__(self, engine: Engine, table: str) -> None:
        self.engine, self.table = engine, table

    def insert(self, row: dict[str, Any]) -> int:
        with self.engine.begin() as connection:
            connection.execute(
                text(
                    f"INSERT INTO {self.table} (id, org_id, amount, note)"
                    " VALUES (:id, :org_id, :amount, :note)"
                ),
                row,
            )
        return int(row["id"])

    def totals(self, org_id: int) -> tuple[int, str]:
        with self.engine.connect() as connection:
            count, total = connection.execute(
                text(f"SELECT count(*), sum(amount) FROM {self.table} WHERE org_id = :org"),
                {"org": org_id},
            ).one()
        return int(count), f"{total:.2f}"


@pytest.fixture
def app(store_url: str) -> Iterator[tuple[Repository, Repository]]:
    create_tables(store_url, 500)
    engine = create_engine(normalize_database_url(store_url))
    yield (
        Repository(engine, "revenue_transactions"),
        Repository(engine, "revenue_transactions_partitioned"),
    )
    engine.dispose()


def flag_file(tmp_path: Path, **rules: list[dict[str, Any]]) -> Path:
    definitions = stage_flag_definitions("revenue")
    for stage, stage_rules in rules.items():
        definitions[f"migrate.revenue.{stage}"]["rules"] = stage_rules
    document = {
        "version": 1,
        "segments": {
            "pilot-orgs": {
                "conditions": [{"attribute": "org_id", "op": "in", "values": [PILOT_ORG]}]
            }
        },
        "flags": definitions,
    }
    path = tmp_path / "flags.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


EVERYONE = [{"serve": "on"}]
PILOT = [
    {"when": [{"attribute": "org_id", "op": "in_segment", "values": ["pilot-orgs"]}], "serve": "on"}
]


def org(org_id: int) -> Context:
    return Context(key=f"org-{org_id}", attributes={"org_id": org_id})


def new_row(number: int, org_id: int) -> dict[str, Any]:
    return {"id": 10_000 + number, "org_id": org_id, "amount": "12.50", "note": f"app {number}"}


def test_dual_write_shadow_and_a_live_pilot_route_and_keep_parity(
    app: tuple[Repository, Repository], store_url: str, tmp_path: Path
) -> None:
    old, new = app
    path = flag_file(tmp_path, dual_write=EVERYONE, shadow=EVERYONE, live=PILOT)
    mismatches: list[Mismatch] = []
    with Client.from_file(path) as client:
        migrator = Migrator("revenue", client, on_mismatch=mismatches.append)
        assert migrator.stage(org(PILOT_ORG)) is Stage.LIVE
        assert migrator.stage(org(3)) is Stage.SHADOW
        # When the application writes rows of every org through the migrator
        for number in range(50):
            org_id = number % 5 + 1
            row = new_row(number, org_id)
            migrator.write(
                lambda r=row: old.insert(r), lambda r=row: new.insert(r), context=org(org_id)
            )
        # Then every write reached both tables: parity is exact, per table and per org
        report = measure_parity(migration_from_text(migration_text(store_url), {}))
        assert report.is_synced
        assert report.table.old.rows == 550
        # When a shadow org's rows in the new table are corrupted, and it reads
        run(store_url, "UPDATE revenue_transactions_partitioned SET amount = 0 WHERE id = 10002")
        answer = migrator.read(lambda: old.totals(3), lambda: new.totals(3), context=org(3))
        pilot = migrator.read(
            lambda: old.totals(PILOT_ORG), lambda: new.totals(PILOT_ORG), context=org(PILOT_ORG)
        )
    # Then the shadow org got the old table's answer and the mismatch was recorded
    assert answer == old.totals(3)
    assert [(m.stage, m.context_key, m.old, m.new) for m in mismatches] == [
        (Stage.SHADOW, "org-3", old.totals(3), new.totals(3))
    ]
    # And the live pilot org read the new table, compared with the old one: they agree
    assert pilot == new.totals(PILOT_ORG)
    stats = migrator.stats.snapshot()
    assert (stats["compared"], stats["mismatched"]) == (2, 1)
    assert stats["calls"]["write_new"] == stats["calls"]["write_old"] == 50


def test_with_every_stage_off_only_the_old_table_is_written(
    app: tuple[Repository, Repository], store_url: str, tmp_path: Path
) -> None:
    old, new = app
    with Client.from_file(flag_file(tmp_path)) as client:
        migrator = Migrator("revenue", client)
        for number in range(20):
            row = new_row(number, 1)
            migrator.write(lambda r=row: old.insert(r), lambda r=row: new.insert(r), context=org(1))
    report = measure_parity(migration_from_text(migration_text(store_url, "pilot: [1]"), {}))
    assert [(p.group, p.row_delta, p.level) for p in report.groups] == [
        ("1", -20, ParityLevel.DRIFT)
    ]
    assert migrator.stats.snapshot()["calls"] == {"write_old": 20}


def test_a_failing_new_table_in_dual_write_leaves_the_caller_unharmed_and_parity_shows_it(
    app: tuple[Repository, Repository], store_url: str, tmp_path: Path
) -> None:
    old, new = app
    # Given the new table refuses writes (dropped by mistake)
    run(store_url, "DROP TABLE revenue_transactions_partitioned")
    run(
        store_url,
        "CREATE TABLE revenue_transactions_partitioned (id BIGINT PRIMARY KEY,"
        " org_id BIGINT NOT NULL, amount NUMERIC(12, 2) NOT NULL, note TEXT,"
        " CHECK (org_id < 0))",
    )
    with Client.from_file(flag_file(tmp_path, dual_write=EVERYONE)) as client:
        migrator = Migrator("revenue", client)
        for number in range(5):
            row = new_row(number, 4)
            assert (
                migrator.write(
                    lambda r=row: old.insert(r), lambda r=row: new.insert(r), context=org(4)
                )
                == row["id"]
            )
    assert migrator.stats.errors == {"write_old": 0, "write_new": 5}
    report = measure_parity(migration_from_text(migration_text(store_url), {}))
    assert report.table.row_delta == -505
    assert report.level is ParityLevel.WARNING
