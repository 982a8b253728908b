"""Delivery schemas: SDK heartbeats and the reach of a flag's change."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from rheostat.api.schemas.common import RequestModel
from rheostat.service import Heartbeat, Reach, SdkProcess

__all__ = ["HeartbeatAck", "HeartbeatIn", "ReachPublic", "SdkProcessPublic"]

_PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
_MAX_REVISION = 2**62


class HeartbeatIn(RequestModel):
    """An SDK process and the environment revision of the flags it serves."""

    instance_id: str = Field(
        pattern=r"^[A-Za-z0-9._:-]{1,64}$",
        description="unique per process (the SDK draws a new one after a fork)",
        examples=["5f0c2b8e9a7d4e1f"],
    )
    revision: int = Field(ge=0, le=_MAX_REVISION, strict=True, examples=[42])
    hostname: str = Field(default="", max_length=255, pattern=_PRINTABLE, examples=["web-1"])
    pid: int = Field(default=0, ge=0, le=2**31 - 1, strict=True, examples=[4242])
    sdk: str = Field(default="", max_length=64, pattern=_PRINTABLE, examples=["rheostat-python"])

    def to_domain(self) -> Heartbeat:
        """The service's value."""
        return Heartbeat(
            instance_id=self.instance_id,
            revision=self.revision,
            hostname=self.hostname,
            pid=self.pid,
            sdk=self.sdk,
        )


class HeartbeatAck(BaseModel):
    """The environment's current revision: a client below it is behind."""

    environment: str
    revision: int


class SdkProcessPublic(BaseModel):
    """One SDK process as last heard of."""

    instance_id: str
    revision: int
    hostname: str
    pid: int
    sdk: str
    last_seen_at: datetime
    applied_at: datetime = Field(description="when it first reported this revision")

    @classmethod
    def from_domain(cls, process: SdkProcess) -> SdkProcessPublic:
        """Convert the service's value."""
        return cls(
            instance_id=process.instance_id,
            revision=process.revision,
            hostname=process.hostname,
            pid=process.pid,
            sdk=process.sdk,
            last_seen_at=process.last_seen_at,
            applied_at=process.applied_at,
        )


class ReachPublic(BaseModel):
    """How far a flag's latest change has reached the live SDK processes."""

    environment: str
    flag: str
    revision: int = Field(description="the environment revision of the flag's latest change")
    environment_revision: int
    live: int = Field(description="SDK processes heard of within live_within_s")
    applied: int = Field(description="live processes that run the change")
    pending: list[SdkProcessPublic] = Field(description="live processes that do not, yet")
    oldest_acknowledgement_s: float | None = Field(
        description="age of the oldest heartbeat among those that applied it"
    )

    @classmethod
    def from_domain(cls, reach: Reach) -> ReachPublic:
        """Convert the service's value."""
        return cls(
            environment=reach.environment,
            flag=reach.flag,
            revision=reach.revision,
            environment_revision=reach.environment_revision,
            live=reach.live,
            applied=reach.applied,
            pending=[SdkProcessPublic.from_domain(process) for process in reach.pending],
            oldest_acknowledgement_s=reach.oldest_acknowledgement_s,
        )
