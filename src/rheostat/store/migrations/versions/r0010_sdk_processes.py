"""SDK processes and the revision of each flag's last change (reach of a change).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _at(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def _environment(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["environment_id"],
        ["environments.id"],
        name=op.f(f"fk_{table}_environment_id_environments"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    """Create sdk_processes and flag_revisions."""
    op.create_table(
        "sdk_processes",
        sa.Column("id", ID, nullable=False),
        sa.Column("environment_id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.String(64), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("hostname", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("sdk", sa.String(64), nullable=False),
        _at("first_seen_at"),
        _at("last_seen_at"),
        _at("applied_at"),
        _environment("sdk_processes"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sdk_processes")),
        sa.UniqueConstraint(
            "environment_id",
            "instance_id",
            name=op.f("uq_sdk_processes_environment_id_instance_id"),
        ),
    )
    op.create_table(
        "flag_revisions",
        sa.Column("id", ID, nullable=False),
        sa.Column("environment_id", sa.Integer(), nullable=False),
        sa.Column("flag", sa.String(128), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        _environment("flag_revisions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flag_revisions")),
        sa.UniqueConstraint(
            "environment_id", "flag", name=op.f("uq_flag_revisions_environment_id_flag")
        ),
    )


def downgrade() -> None:
    """Drop them."""
    op.drop_table("flag_revisions")
    op.drop_table("sdk_processes")
