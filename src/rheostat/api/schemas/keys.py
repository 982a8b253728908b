"""API key schemas: Create, Public, and the one response that shows the token."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from rheostat.api.schemas.common import RequestModel
from rheostat.service import ApiKey, ApiKeyScope, CreatedApiKey

__all__ = ["ApiKeyCreate", "ApiKeyCreated", "ApiKeyPublic", "RevokeRequest"]


class ApiKeyCreate(RequestModel):
    """Create a key: ``sdk`` keys read one environment's flags, ``admin`` keys do everything."""

    name: str = Field(min_length=1, max_length=200, examples=["checkout-service"])
    scope: ApiKeyScope
    environment: str | None = Field(default=None, description="required for sdk keys")
    reason: str | None = Field(default=None, max_length=2000)


class RevokeRequest(RequestModel):
    """Revoke a key; it stops authenticating at once."""

    reason: str | None = Field(default=None, max_length=2000)


class ApiKeyPublic(BaseModel):
    """A key as listed: never the token, only its recognisable prefix."""

    id: str
    name: str
    scope: ApiKeyScope
    environment: str | None
    prefix: str
    active: bool
    created_at: datetime
    created_by: str
    revoked_at: datetime | None

    @classmethod
    def from_record(cls, record: ApiKey) -> ApiKeyPublic:
        """Convert the service's value."""
        return cls(
            id=record.id,
            name=record.name,
            scope=record.scope,
            environment=record.environment,
            prefix=record.prefix,
            active=record.is_active,
            created_at=record.created_at,
            created_by=record.created_by,
            revoked_at=record.revoked_at,
        )


class ApiKeyCreated(BaseModel):
    """The new key and its token: the only time the token is shown."""

    api_key: ApiKeyPublic
    token: str

    @classmethod
    def from_record(cls, created: CreatedApiKey) -> ApiKeyCreated:
        """Convert the service's value."""
        return cls(api_key=ApiKeyPublic.from_record(created.api_key), token=created.token)
