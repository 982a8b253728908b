"""The release side's tables: metric windows from SDKs, release plans and their events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Double,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from rheostat.store.base import KEY_LENGTH, ROW_ID, Base

__all__ = [
    "MetricWindowBinRow",
    "MetricWindowIdRow",
    "MetricWindowRow",
    "PlanEventRow",
    "ReleasePlanRow",
]


class MetricWindowRow(Base):
    """``metric_windows``: sufficient statistics of one metric for one flag variant in one
    window, added up over every SDK process that sent it (release-plan gates read them)."""

    __tablename__ = "metric_windows"
    __table_args__ = (
        UniqueConstraint(
            "environment_id",
            "flag",
            "metric",
            "variant",
            "kind",
            "window_start",
            "seconds",
            name="uq_metric_windows_window",  # the convention's name is over 63 characters
        ),
    )

    id: Mapped[int] = mapped_column(ROW_ID, primary_key=True)
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    flag: Mapped[str] = mapped_column(String(KEY_LENGTH))
    metric: Mapped[str] = mapped_column(String(KEY_LENGTH))
    variant: Mapped[str] = mapped_column(String(KEY_LENGTH))
    kind: Mapped[str] = mapped_column(String(16))
    window_start: Mapped[datetime]
    seconds: Mapped[int] = mapped_column(Integer)
    n: Mapped[int] = mapped_column(BigInteger)
    sum: Mapped[float] = mapped_column(Double)
    sum_squares: Mapped[float] = mapped_column(Double)


class MetricWindowBinRow(Base):
    """``metric_window_bins``: a mean window's quantile sketch, one row per bin, its count added
    up over every SDK process (an upsert adds counts, so concurrent batches merge exactly).

    ``sign`` is 1 for positive values, -1 for negative ones (by magnitude), 0 for zeros."""

    __tablename__ = "metric_window_bins"
    __table_args__ = (
        UniqueConstraint(
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

    id: Mapped[int] = mapped_column(ROW_ID, primary_key=True)
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    flag: Mapped[str] = mapped_column(String(KEY_LENGTH))
    metric: Mapped[str] = mapped_column(String(KEY_LENGTH))
    variant: Mapped[str] = mapped_column(String(KEY_LENGTH))
    window_start: Mapped[datetime]
    seconds: Mapped[int] = mapped_column(Integer)
    sign: Mapped[int] = mapped_column(SmallInteger)
    bin: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(BigInteger)


class MetricWindowIdRow(Base):
    """``metric_window_ids``: ids of windows already counted (a retry changes nothing)."""

    __tablename__ = "metric_window_ids"
    __table_args__ = (UniqueConstraint("environment_id", "window_id"),)

    id: Mapped[int] = mapped_column(ROW_ID, primary_key=True)
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    window_id: Mapped[str] = mapped_column(String(KEY_LENGTH))
    received_at: Mapped[datetime]


class ReleasePlanRow(Base):
    """``release_plans``: a plan's canonical document and its state, changed by ticks.

    ``lease_owner`` / ``lease_expires_at``: the controller that ticks the plan and until when;
    another controller takes the plan over once the lease has expired. A lease never changes
    ``version``: only a change of state does."""

    __tablename__ = "release_plans"
    __table_args__ = (UniqueConstraint("environment_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    environment_id: Mapped[int] = mapped_column(
        ForeignKey("environments.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(KEY_LENGTH))
    flag: Mapped[str] = mapped_column(String(KEY_LENGTH))
    document: Mapped[dict[str, Any]]
    state: Mapped[dict[str, Any]]
    phase: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None]

    __mapper_args__ = {  # noqa: RUF012  # read by SQLAlchemy's declarative scan, never mutated
        "version_id_col": version,
        "version_id_generator": False,
    }


class PlanEventRow(Base):
    """``plan_events``: every transition of a plan, with its evidence (append only)."""

    __tablename__ = "plan_events"

    id: Mapped[int] = mapped_column(ROW_ID, primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("release_plans.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime]
    type: Mapped[str] = mapped_column(String(64))
    stage: Mapped[int] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]]
    actor: Mapped[str] = mapped_column(String(200))
