"""The migration document: validated whole, errors name the field."""

from __future__ import annotations

from typing import Any

import pytest

from rheostat.errors import InvalidDefinition
from rheostat.migrate import ParityLevel, migration_from_dict, migration_from_text

ENV = {"APP_DB": "postgresql://app@db/app"}


def document(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "migration": "revenue-partitioned",
        "old": {"url": "${APP_DB}", "table": "revenue_transactions"},
        "new": {"table": "revenue_transactions_partitioned"},
        "columns": ["id", "org_id", "amount"],
    }
    base.update(changes)
    return base


def test_a_full_document_reads_back() -> None:
    migration = migration_from_text(
        """
migration: revenue-partitioned
environment: production
old: {url: "${APP_DB}", table: revenue_transactions}
new: {table: public.revenue_transactions_partitioned}
columns: {id: id, org_id: org_id, amount_cents: "amount * 100"}
group_by: org_id
pilot: [123, 456, org-789]
thresholds: {ok_below: 5, checksum_mismatch: critical}
""",
        ENV,
    )
    assert migration.new.url == "postgresql://app@db/app"  # the old side's by default
    assert migration.same_database
    assert migration.columns[2] == ("amount_cents", "amount * 100")
    assert migration.pilot == (123, 456, "org-789")
    assert migration.thresholds.ok_below == 5
    assert migration.thresholds.warning_above == 100
    assert migration.thresholds.checksum_mismatch is ParityLevel.CRITICAL


@pytest.mark.parametrize(
    ("changes", "path", "reason"),
    [
        ({"migration": "no spaces"}, "migration", "letters"),
        ({"colums": []}, "colums", "unknown field"),
        ({"old": {"url": "${NOPE}", "table": "t"}}, "old.url", "NOPE is not set"),
        ({"new": {"table": "bad table"}}, "new.table", "a table name"),
        ({"columns": []}, "columns", "at least one"),
        ({"columns": ["id", "id"]}, "columns", "named twice"),
        ({"pilot": [1, 2]}, "pilot", "need group_by"),
        ({"group_by": "org_id", "pilot": [1, True]}, "pilot[1]", "string or integer"),
        ({"thresholds": {"warning_above": 100, "critical_above": 50}}, "thresholds", "at least"),
        ({"thresholds": {"checksum_mismatch": "bad"}}, "thresholds.checksum_mismatch", "one of"),
        ({"environment": "Prod"}, "environment", "environment key"),
    ],
)
def test_a_wrong_field_is_named(changes: dict[str, Any], path: str, reason: str) -> None:
    with pytest.raises(InvalidDefinition, match=reason) as raised:
        migration_from_dict(document(**changes), ENV)
    assert raised.value.details["path"].startswith(path)


def test_yaml_that_does_not_parse_names_its_source() -> None:
    with pytest.raises(InvalidDefinition, match=r"m\.yaml"):
        migration_from_text("migration: [", ENV, name_hint="m.yaml")
