"""Backfill jobs and their checkpoints.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
KEY = sa.String(128)
JSON = sa.JSON(none_as_null=True)


def _at(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    """Create backfill_jobs and backfill_checkpoints."""
    op.create_table(
        "backfill_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", KEY, nullable=False),
        sa.Column("document", JSON, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("strategy", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("rows_done", sa.BigInteger(), nullable=False),
        sa.Column("rows_total", sa.BigInteger(), nullable=True),
        sa.Column("batches", sa.BigInteger(), nullable=False),
        sa.Column("batch_size", sa.Integer(), nullable=False),
        sa.Column("rows_per_second", sa.Double(), nullable=False),
        sa.Column("eta_seconds", sa.Double(), nullable=True),
        sa.Column("last_key", sa.Text(), nullable=True),
        sa.Column("lease_owner", sa.String(200), nullable=True),
        _at("lease_expires_at", nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("verify", JSON, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        _at("created_at"),
        _at("updated_at"),
        _at("started_at", nullable=True),
        _at("finished_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backfill_jobs")),
        sa.UniqueConstraint("name", name=op.f("uq_backfill_jobs_name")),
    )
    op.create_table(
        "backfill_checkpoints",
        sa.Column("id", ID, nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        _at("at"),
        sa.Column("worker", sa.String(200), nullable=False),
        sa.Column("last_key", sa.Text(), nullable=True),
        sa.Column("rows_done", sa.BigInteger(), nullable=False),
        sa.Column("batch_rows", sa.Integer(), nullable=False),
        sa.Column("batch_size", sa.Integer(), nullable=False),
        sa.Column("batch_seconds", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["backfill_jobs.id"],
            name=op.f("fk_backfill_checkpoints_job_id_backfill_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backfill_checkpoints")),
    )
    op.create_index(op.f("ix_backfill_checkpoints_job_id"), "backfill_checkpoints", ["job_id"])


def downgrade() -> None:
    """Drop them."""
    op.drop_index(op.f("ix_backfill_checkpoints_job_id"), table_name="backfill_checkpoints")
    op.drop_table("backfill_checkpoints")
    op.drop_table("backfill_jobs")
