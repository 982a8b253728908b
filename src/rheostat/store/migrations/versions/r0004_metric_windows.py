"""Metric windows: sufficient statistics per flag variant and metric, sent by SDKs.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
KEY = sa.String(128)


def _environment_key(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["environment_id"],
        ["environments.id"],
        name=op.f(f"fk_{table}_environment_id_environments"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    """Create metric_windows and metric_window_ids."""
    op.create_table(
        "metric_windows",
        sa.Column("id", ID, nullable=False),
        sa.Column("environment_id", sa.Integer(), nullable=False),
        sa.Column("flag", KEY, nullable=False),
        sa.Column("metric", KEY, nullable=False),
        sa.Column("variant", KEY, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seconds", sa.Integer(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("sum", sa.Double(), nullable=False),
        sa.Column("sum_squares", sa.Double(), nullable=False),
        _environment_key("metric_windows"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_windows")),
        sa.UniqueConstraint(
            "environment_id",
            "flag",
            "metric",
            "variant",
            "kind",
            "window_start",
            "seconds",
            name="uq_metric_windows_window",
        ),
    )
    op.create_table(
        "metric_window_ids",
        sa.Column("id", ID, nullable=False),
        sa.Column("environment_id", sa.Integer(), nullable=False),
        sa.Column("window_id", KEY, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        _environment_key("metric_window_ids"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_window_ids")),
        sa.UniqueConstraint(
            "environment_id",
            "window_id",
            name=op.f("uq_metric_window_ids_environment_id_window_id"),
        ),
    )
