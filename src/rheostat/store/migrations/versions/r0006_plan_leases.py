"""Controller leases on release plans.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``lease_owner`` and ``lease_expires_at``: which controller ticks the plan, until when."""
    with op.batch_alter_table("release_plans") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(200), nullable=True))
        batch.add_column(sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index(batch.f("ix_release_plans_phase"), ["phase"])


def downgrade() -> None:
    """Drop the lease columns."""
    with op.batch_alter_table("release_plans") as batch:
        batch.drop_index(batch.f("ix_release_plans_phase"))
        batch.drop_column("lease_expires_at")
        batch.drop_column("lease_owner")
