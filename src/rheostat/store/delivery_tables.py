"""The delivery side's tables: which SDK processes run which revision, and when each flag
last changed (the revision that carries its current definition)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rheostat.store.base import KEY_LENGTH, ROW_ID, Base

__all__ = ["FlagRevisionRow", "SdkProcessRow"]


class SdkProcessRow(Base):
    """``sdk_processes``: one row per SDK process, refreshed by its heartbeats."""

    __tablename__ = "sdk_processes"
    __table_args__ = (UniqueConstraint("environment_id", "instance_id"),)

    id: Mapped[int] = mapped_column(ROW_ID, primary_key=True)
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    instance_id: Mapped[str] = mapped_column(String(64))
    revision: Mapped[int] = mapped_column(BigInteger)
    hostname: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    sdk: Mapped[str] = mapped_column(String(64))
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    applied_at: Mapped[datetime]


class FlagRevisionRow(Base):
    """``flag_revisions``: the environment revision at which a flag's definition last changed."""

    __tablename__ = "flag_revisions"
    __table_args__ = (UniqueConstraint("environment_id", "flag"),)

    id: Mapped[int] = mapped_column(ROW_ID, primary_key=True)
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    flag: Mapped[str] = mapped_column(String(KEY_LENGTH))
    revision: Mapped[int] = mapped_column(BigInteger)
