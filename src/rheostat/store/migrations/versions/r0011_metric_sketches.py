"""Quantile sketches of mean metric windows: one row per bin, counts added up on arrival.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
KEY = sa.String(128)


def upgrade() -> None:
    """Create metric_window_bins."""
    op.create_table(
        "metric_window_bins",
        sa.Column("id", ID, nullable=False),
        sa.Column("environment_id", sa.Integer(), nullable=False),
        sa.Column("flag", KEY, nullable=False),
        sa.Column("metric", KEY, nullable=False),
        sa.Column("variant", KEY, nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seconds", sa.Integer(), nullable=False),
        sa.Column("sign", sa.SmallInteger(), nullable=False),
        sa.Column("bin", sa.Integer(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_metric_window_bins_environment_id_environments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_window_bins")),
        sa.UniqueConstraint(
            "environment_id",
            "flag",
            "metric",
            "variant",
            "window_start",
            "seconds",
            "sign",
            "bin",
            name="uq_metric_window_bins_bin",
        ),
    )


def downgrade() -> None:
    """Drop it."""
    op.drop_table("metric_window_bins")
