"""The schema, as SQLAlchemy 2 mapped classes; the migrations create exactly this.

Rows are a storage detail: services see ``store.records`` values, built by ``store.mappers``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Double,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

__all__ = [
    "ApiKeyRow",
    "AuditEventRow",
    "Base",
    "EnvironmentRow",
    "ExperimentConversionRow",
    "ExperimentEventIdRow",
    "ExperimentExposureRow",
    "ExperimentResultRow",
    "ExperimentRow",
    "ExperimentWindowRow",
    "FlagRow",
    "FlagVersionRow",
    "SegmentRow",
    "SegmentVersionRow",
]

from rheostat.store.base import KEY_LENGTH, ROW_ID, Base


class EnvironmentRow(Base):
    """``environments``: one per deployment stage."""

    __tablename__ = "environments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(KEY_LENGTH), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer)
    revision: Mapped[int] = mapped_column(BigInteger, server_default="0", default=0)
    """Grows by one with each committed change of the environment's flags or segments."""
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __mapper_args__ = {  # noqa: RUF012  # read by SQLAlchemy's declarative scan, never mutated
        "version_id_col": version,
        "version_id_generator": False,
    }


class FlagRow(Base):
    """``flags``: the current version of each flag; ``deleted_at`` keeps deleted flags' history."""

    __tablename__ = "flags"
    __table_args__ = (UniqueConstraint("environment_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    environment_id: Mapped[int] = mapped_column(
        ForeignKey("environments.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    definition: Mapped[dict[str, Any]]
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]

    __mapper_args__ = {  # noqa: RUF012  # read by SQLAlchemy's declarative scan, never mutated
        "version_id_col": version,
        "version_id_generator": False,
    }


class FlagVersionRow(Base):
    """``flag_versions``: immutable history, one row per change of a flag."""

    __tablename__ = "flag_versions"
    __table_args__ = (UniqueConstraint("flag_id", "version"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    flag_id: Mapped[int] = mapped_column(ForeignKey("flags.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]]
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    action: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    segments: Mapped[dict[str, Any] | None]
    """The versions of the segments this version tested (``{"pilot-orgs": 3}``); ``None``
    for versions written before segment history existed."""


class SegmentRow(Base):
    """``segments``: named condition lists per environment."""

    __tablename__ = "segments"
    __table_args__ = (UniqueConstraint("environment_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    environment_id: Mapped[int] = mapped_column(
        ForeignKey("environments.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    definition: Mapped[dict[str, Any]]
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __mapper_args__ = {  # noqa: RUF012  # read by SQLAlchemy's declarative scan, never mutated
        "version_id_col": version,
        "version_id_generator": False,
    }


class SegmentVersionRow(Base):
    """``segment_versions``: immutable history of segments, kept after a segment is deleted."""

    __tablename__ = "segment_versions"
    __table_args__ = (UniqueConstraint("environment_id", "key", "version"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    version: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]]
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    action: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class ApiKeyRow(Base):
    """``api_keys``: hashed tokens; the token itself is never stored."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    scope: Mapped[str] = mapped_column(String(16))
    environment_id: Mapped[int | None] = mapped_column(
        ForeignKey("environments.id", ondelete="SET NULL"), index=True
    )
    prefix: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None]


class AuditEventRow(Base):
    """``audit_events``: append-only; keeps the environment key, so it outlives deletions."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    environment: Mapped[str | None] = mapped_column(String(KEY_LENGTH), index=True)
    subject: Mapped[str] = mapped_column(String(200), index=True)
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]
    reason: Mapped[str | None] = mapped_column(Text)


# Experiments ----------------------------------------------------------------------------------

"""64-bit ids for tables that grow with traffic (SQLite's rowid alias must be INTEGER)."""
UNIT_LENGTH = 256
ARM_LENGTH = 64
COMMIT_LENGTH = 64
EVENT_ID_LENGTH = 128


class ExperimentRow(Base):
    """``experiments``: arms, metrics and coverage (``definition``) and the life cycle."""

    __tablename__ = "experiments"
    __table_args__ = (UniqueConstraint("environment_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    environment_id: Mapped[int] = mapped_column(
        ForeignKey("environments.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    definition: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    stopped_at: Mapped[datetime | None]

    __mapper_args__ = {  # noqa: RUF012  # read by SQLAlchemy's declarative scan, never mutated
        "version_id_col": version,
        "version_id_generator": False,
    }


class ExperimentExposureRow(Base):
    """``experiment_exposures``: a unit's arm, once, when the server first saw it."""

    __tablename__ = "experiment_exposures"
    __table_args__ = (UniqueConstraint("experiment_id", "unit"),)

    id: Mapped[int] = mapped_column(ROW_ID, primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id", ondelete="CASCADE"))
    unit: Mapped[str] = mapped_column(String(UNIT_LENGTH))
    arm: Mapped[str] = mapped_column(String(ARM_LENGTH))
    commit_sha: Mapped[str | None] = mapped_column(String(COMMIT_LENGTH))
    first_seen: Mapped[datetime]


class ExperimentWindowRow(Base):
    """``experiment_windows``: sufficient statistics of one arm and metric in one time window.

    Windows are keyed by the server's receive time, so a window that has ended never changes.
    """

    __tablename__ = "experiment_windows"
    __table_args__ = (UniqueConstraint("experiment_id", "arm", "metric", "window_start"),)

    id: Mapped[int] = mapped_column(ROW_ID, primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id", ondelete="CASCADE"))
    arm: Mapped[str] = mapped_column(String(ARM_LENGTH))
    metric: Mapped[str] = mapped_column(String(KEY_LENGTH))
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    n: Mapped[int] = mapped_column(BigInteger)
    sum: Mapped[float] = mapped_column(Double)
    sum_squares: Mapped[float] = mapped_column(Double)


class ExperimentConversionRow(Base):
    """``experiment_conversions``: a unit converted on a proportion metric (at most once)."""

    __tablename__ = "experiment_conversions"
    __table_args__ = (UniqueConstraint("experiment_id", "metric", "unit"),)

    id: Mapped[int] = mapped_column(ROW_ID, primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id", ondelete="CASCADE"))
    metric: Mapped[str] = mapped_column(String(KEY_LENGTH))
    unit: Mapped[str] = mapped_column(String(UNIT_LENGTH))
    arm: Mapped[str] = mapped_column(String(ARM_LENGTH))
    converted_at: Mapped[datetime]


class ExperimentEventIdRow(Base):
    """``experiment_event_ids``: ids of metric events already counted (retries change nothing)."""

    __tablename__ = "experiment_event_ids"
    __table_args__ = (UniqueConstraint("experiment_id", "event_id"),)

    id: Mapped[int] = mapped_column(ROW_ID, primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(EVENT_ID_LENGTH))
    received_at: Mapped[datetime]


class ExperimentResultRow(Base):
    """``experiment_results``: every results computation, as JSON, for replay and audit."""

    __tablename__ = "experiment_results"

    id: Mapped[int] = mapped_column(ROW_ID, primary_key=True)
    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiments.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime]
    computed_at: Mapped[datetime]
    document: Mapped[dict[str, Any]]


# The release side's tables live in their own module; importing it here registers them on
# ``Base.metadata`` (what Alembic and the schema test compare against).
from rheostat.store.release_tables import (  # noqa: E402  # registers them on Base.metadata
    MetricWindowBinRow,
    MetricWindowIdRow,
    MetricWindowRow,
    PlanEventRow,
    ReleasePlanRow,
)

__all__ += [
    "MetricWindowBinRow",
    "MetricWindowIdRow",
    "MetricWindowRow",
    "PlanEventRow",
    "ReleasePlanRow",
]

from rheostat.store.delivery_tables import (  # noqa: E402  # registers them on Base.metadata
    FlagRevisionRow,
    SdkProcessRow,
)

__all__ += ["FlagRevisionRow", "SdkProcessRow"]
from rheostat.store.backfill_tables import (  # noqa: E402  # registers them on Base.metadata
    BackfillCheckpointRow,
    BackfillJobRow,
)

__all__ += ["BackfillCheckpointRow", "BackfillJobRow"]
from rheostat.store.operations_tables import (  # noqa: E402  # registers them on Base.metadata
    AlertRow,
    AlertRulesRow,
    RollbackRow,
    WebhookAttemptRow,
    WebhookDeliveryRow,
    WebhookRow,
)

__all__ += [
    "AlertRow",
    "AlertRulesRow",
    "RollbackRow",
    "WebhookAttemptRow",
    "WebhookDeliveryRow",
    "WebhookRow",
]
# The checks' table, registered the same way.
from rheostat.store.check_tables import CheckRunRow  # noqa: E402  # registers it on Base.metadata

__all__ += ["CheckRunRow"]
# The migrations' table, registered the same way.
from rheostat.store.migration_tables import ParityRunRow  # noqa: E402  # registers it on Base.metadata

__all__ += ["ParityRunRow"]
