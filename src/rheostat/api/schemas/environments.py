"""Environment schemas: Create, Update, Public."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from rheostat.api.schemas.common import ChangeRequest, RequestModel
from rheostat.service import Environment

__all__ = ["EnvironmentCreate", "EnvironmentPublic", "EnvironmentUpdate"]


class EnvironmentCreate(RequestModel):
    """Create an environment; ``name`` defaults to ``key``."""

    key: str = Field(min_length=1, max_length=63, examples=["production"])
    name: str | None = Field(default=None, max_length=200)
    description: str = Field(default="", max_length=2000)
    reason: str | None = Field(default=None, max_length=2000)


class EnvironmentUpdate(ChangeRequest):
    """Change the name and/or description; a field left out is kept."""

    name: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=2000)


class EnvironmentPublic(BaseModel):
    """An environment as the API shows it."""

    key: str
    name: str
    description: str
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_record(cls, record: Environment) -> EnvironmentPublic:
        """Convert the service's value."""
        return cls(
            key=record.key,
            name=record.name,
            description=record.description,
            version=record.version,
            created_at=record.created_at,
            updated_at=record.updated_at,
        )
