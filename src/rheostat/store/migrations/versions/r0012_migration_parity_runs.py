"""Migration parity runs: each measurement of a table migration's parity.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
KEY = sa.String(128)
JSON = sa.JSON(none_as_null=True)


def upgrade() -> None:
    """Create migration_parity_runs."""
    op.create_table(
        "migration_parity_runs",
        sa.Column("id", ID, nullable=False),
        sa.Column("environment", KEY, nullable=False),
        sa.Column("migration", KEY, nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("measured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("report", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_migration_parity_runs")),
    )
    op.create_index(
        "ix_migration_parity_runs_migration",
        "migration_parity_runs",
        ["environment", "migration", "id"],
    )


def downgrade() -> None:
    """Drop migration_parity_runs."""
    op.drop_index("ix_migration_parity_runs_migration", table_name="migration_parity_runs")
    op.drop_table("migration_parity_runs")
