"""Segment history, what each flag version depended on, and an environment revision.

- ``segment_versions``: every version of every segment (deleted ones included), so that a flag
  restored to an old version gets back the segments it tested then.
- ``flag_versions.segments``: the versions of the segments a flag version tested
  (``{"pilot-orgs": 3}``); ``NULL`` for versions written before this revision (unknown).
- ``environments.revision``: grows by one with every committed change of the environment's
  flags or segments; SDK snapshots are cached by it and streams will number events with it.

Existing segments are copied into ``segment_versions`` as their current version.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON(none_as_null=True)


def upgrade() -> None:
    """Add the segment history, the flag versions' pins and the environment revision."""
    op.create_table(
        "segment_versions",
        sa.Column("id", ID, nullable=False),
        sa.Column("environment_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", JSON, nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_segment_versions_environment_id_environments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segment_versions")),
        sa.UniqueConstraint(
            "environment_id",
            "key",
            "version",
            name=op.f("uq_segment_versions_environment_id_key_version"),
        ),
    )
    with op.batch_alter_table("flag_versions") as batch:
        batch.add_column(sa.Column("segments", JSON, nullable=True))
    with op.batch_alter_table("environments") as batch:
        batch.add_column(sa.Column("revision", sa.BigInteger(), nullable=False, server_default="0"))
    op.execute(
        "INSERT INTO segment_versions"
        " (environment_id, key, version, definition, deleted, action, actor, reason, created_at)"
        " SELECT environment_id, key, version, definition, false, 'segment.updated',"
        " 'migration 0003', 'segment history starts here', updated_at FROM segments"
    )
