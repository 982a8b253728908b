"""Experiments: definitions, exposures, metric windows, conversions, event ids, results.

Revision ID: 0002
Revises: 0001
Create Date: 2026-01-15
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = sa.String(128)
UNIT = sa.String(256)
ARM = sa.String(64)
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON(none_as_null=True)


def _at(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _experiment_id(table: str) -> tuple[sa.Column[int], sa.ForeignKeyConstraint]:
    column = sa.Column("experiment_id", sa.Integer(), nullable=False)
    foreign_key = sa.ForeignKeyConstraint(
        ["experiment_id"],
        ["experiments.id"],
        name=op.f(f"fk_{table}_experiment_id_experiments"),
        ondelete="CASCADE",
    )
    return column, foreign_key


def upgrade() -> None:
    """Create the experiment tables."""
    _create_experiments()
    _create_exposures()
    _create_windows()
    _create_conversions()
    _create_event_ids()
    _create_results()


def _create_experiments() -> None:
    op.create_table(
        "experiments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("environment_id", sa.Integer(), nullable=False),
        sa.Column("key", KEY, nullable=False),
        sa.Column("definition", JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _at("created_at"),
        _at("updated_at"),
        _at("started_at", nullable=True),
        _at("stopped_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=op.f("fk_experiments_environment_id_environments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiments")),
        sa.UniqueConstraint(
            "environment_id", "key", name=op.f("uq_experiments_environment_id_key")
        ),
    )
    op.create_index(op.f("ix_experiments_environment_id"), "experiments", ["environment_id"])


def _create_exposures() -> None:
    table = "experiment_exposures"
    column, foreign_key = _experiment_id(table)
    op.create_table(
        table,
        sa.Column("id", ID, nullable=False),
        column,
        sa.Column("unit", UNIT, nullable=False),
        sa.Column("arm", ARM, nullable=False),
        sa.Column("commit_sha", sa.String(64), nullable=True),
        _at("first_seen"),
        foreign_key,
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.UniqueConstraint("experiment_id", "unit", name=op.f(f"uq_{table}_experiment_id_unit")),
    )


def _create_windows() -> None:
    table = "experiment_windows"
    column, foreign_key = _experiment_id(table)
    op.create_table(
        table,
        sa.Column("id", ID, nullable=False),
        column,
        sa.Column("arm", ARM, nullable=False),
        sa.Column("metric", KEY, nullable=False),
        _at("window_start"),
        _at("window_end"),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("sum", sa.Double(), nullable=False),
        sa.Column("sum_squares", sa.Double(), nullable=False),
        foreign_key,
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.UniqueConstraint(
            "experiment_id",
            "arm",
            "metric",
            "window_start",
            name=op.f(f"uq_{table}_experiment_id_arm_metric_window_start"),
        ),
    )


def _create_conversions() -> None:
    table = "experiment_conversions"
    column, foreign_key = _experiment_id(table)
    op.create_table(
        table,
        sa.Column("id", ID, nullable=False),
        column,
        sa.Column("metric", KEY, nullable=False),
        sa.Column("unit", UNIT, nullable=False),
        sa.Column("arm", ARM, nullable=False),
        _at("converted_at"),
        foreign_key,
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.UniqueConstraint(
            "experiment_id", "metric", "unit", name=op.f(f"uq_{table}_experiment_id_metric_unit")
        ),
    )


def _create_event_ids() -> None:
    table = "experiment_event_ids"
    column, foreign_key = _experiment_id(table)
    op.create_table(
        table,
        sa.Column("id", ID, nullable=False),
        column,
        sa.Column("event_id", sa.String(128), nullable=False),
        _at("received_at"),
        foreign_key,
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.UniqueConstraint(
            "experiment_id", "event_id", name=op.f(f"uq_{table}_experiment_id_event_id")
        ),
    )


def _create_results() -> None:
    table = "experiment_results"
    column, foreign_key = _experiment_id(table)
    op.create_table(
        table,
        sa.Column("id", ID, nullable=False),
        column,
        _at("at"),
        _at("computed_at"),
        sa.Column("document", JSON, nullable=False),
        foreign_key,
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    )
    op.create_index(op.f(f"ix_{table}_experiment_id"), table, ["experiment_id"])


def downgrade() -> None:
    """Drop everything ``upgrade`` created."""
    for table in (
        "experiment_results",
        "experiment_event_ids",
        "experiment_conversions",
        "experiment_windows",
        "experiment_exposures",
    ):
        op.drop_table(table)
    op.drop_index(op.f("ix_experiments_environment_id"), table_name="experiments")
    op.drop_table("experiments")
