"""Release plans and their events.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
KEY = sa.String(128)
JSON = sa.JSON(none_as_null=True)


def _at(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    """Create release_plans and plan_events."""
    op.create_table(
        "release_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("environment_id", sa.Integer(), nullable=False),
        sa.Column("name", KEY, nullable=False),
        sa.Column("flag", KEY, nullable=False),
        sa.Column("document", JSON, nullable=False),
        sa.Column("state", JSON, nullable=False),
        sa.Column("phase", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _at("created_at"),
        _at("updated_at"),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_release_plans_environment_id_environments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_release_plans")),
        sa.UniqueConstraint(
            "environment_id", "name", name=op.f("uq_release_plans_environment_id_name")
        ),
    )
    op.create_index(op.f("ix_release_plans_environment_id"), "release_plans", ["environment_id"])
    op.create_table(
        "plan_events",
        sa.Column("id", ID, nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        _at("at"),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("evidence", JSON, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["release_plans.id"],
            name=op.f("fk_plan_events_plan_id_release_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_events")),
    )
    op.create_index(op.f("ix_plan_events_plan_id"), "plan_events", ["plan_id"])
