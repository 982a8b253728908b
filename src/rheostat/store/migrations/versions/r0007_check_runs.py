"""Check runs: each run of a pre-flight suite, with its results.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
KEY = sa.String(128)
JSON = sa.JSON(none_as_null=True)


def _at(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    """Create check_runs."""
    op.create_table(
        "check_runs",
        sa.Column("id", ID, nullable=False),
        sa.Column("suite", KEY, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("environment", KEY, nullable=True),
        sa.Column("plan", KEY, nullable=True),
        sa.Column("stage", sa.Integer(), nullable=True),
        _at("started_at"),
        _at("finished_at"),
        sa.Column("document", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_runs")),
    )
    op.create_index("ix_check_runs_plan_stage", "check_runs", ["environment", "plan", "stage"])
    op.create_index(op.f("ix_check_runs_started_at"), "check_runs", ["started_at"])


def downgrade() -> None:
    """Drop check_runs."""
    op.drop_index(op.f("ix_check_runs_started_at"), table_name="check_runs")
    op.drop_index("ix_check_runs_plan_stage", table_name="check_runs")
    op.drop_table("check_runs")
