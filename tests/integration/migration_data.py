"""Tables for the migration tests: seed 003's legacy and partitioned revenue tables."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, text

from rheostat.service import normalize_database_url

MIGRATION = """
migration: revenue
environment: production
old: {{url: "{url}", table: revenue_transactions}}
new: {{table: revenue_transactions_partitioned}}
columns: [id, org_id, amount, note]
group_by: org_id
{extra}
"""


def migration_text(url: str, extra: str = "") -> str:
    """The migration document of the revenue tables in ``url``."""
    return MIGRATION.format(url=url, extra=extra)


def create_tables(url: str, rows: int, *, copy: bool = True) -> None:
    """Both tables; ``rows`` rows over orgs 1..5 in the old one, copied to the new one."""
    engine = create_engine(normalize_database_url(url))
    with engine.begin() as connection:
        for table in ("revenue_transactions", "revenue_transactions_partitioned"):
            connection.execute(
                text(
                    f"CREATE TABLE {table} (id BIGINT PRIMARY KEY, org_id BIGINT NOT NULL,"
                    " amount NUMERIC(12, 2) NOT NULL, note TEXT)"
                )
            )
        batch: list[dict[str, Any]] = [
            {
                "id": number,
                "org_id": number % 5 + 1,
                "amount": f"{number % 1000}.{number % 100:02d}",
                "note": None if number % 3 == 0 else f"n{number}",
            }
            for number in range(1, rows + 1)
        ]
        if batch:
            connection.execute(
                text(
                    "INSERT INTO revenue_transactions (id, org_id, amount, note)"
                    " VALUES (:id, :org_id, :amount, :note)"
                ),
                batch,
            )
        if copy:
            connection.execute(
                text(
                    "INSERT INTO revenue_transactions_partitioned"
                    " SELECT id, org_id, amount, note FROM revenue_transactions"
                )
            )
    engine.dispose()


def run(url: str, *statements: str, **params: Any) -> None:
    """Run statements in one transaction."""
    engine = create_engine(normalize_database_url(url))
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement), params)
    engine.dispose()
