"""``/api/v1/keys``: API keys; the token is shown once, at creation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, status

from rheostat import service
from rheostat.api.auth import actor_for
from rheostat.api.deps import AdminKey, Transaction
from rheostat.api.schemas.common import ItemList
from rheostat.api.schemas.keys import ApiKeyCreate, ApiKeyCreated, ApiKeyPublic, RevokeRequest

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/keys", tags=["keys"])


@router.get("")
def list_keys(
    uow: Transaction,
    _: AdminKey,
    include_revoked: Annotated[bool, Query(description="list revoked keys too")] = True,
) -> ItemList[ApiKeyPublic]:
    """List the keys (never their tokens), oldest first."""
    records = service.list_api_keys(uow, include_revoked=include_revoked)
    return ItemList(items=[ApiKeyPublic.from_record(record) for record in records])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_key(body: ApiKeyCreate, uow: Transaction, api_key: AdminKey) -> ApiKeyCreated:
    """Create a key; the response holds its token, which is never shown again."""
    created = service.create_api_key(
        uow,
        name=body.name,
        scope=body.scope,
        environment=body.environment,
        change=service.Change(
            actor=actor_for(api_key),
            reason=body.reason,
        ),
    )
    return ApiKeyCreated.from_record(created)


@router.get("/{key_id}")
def get_key(key_id: str, uow: Transaction, _: AdminKey) -> ApiKeyPublic:
    """Return one key."""
    return ApiKeyPublic.from_record(service.get_api_key(uow, key_id))


@router.post("/{key_id}/revoke")
def revoke_key(
    key_id: str,
    uow: Transaction,
    api_key: AdminKey,
    body: Annotated[RevokeRequest | None, Body()] = None,
) -> ApiKeyPublic:
    """Revoke a key: it stops authenticating at once (revoking twice is harmless)."""
    reason = body.reason if body else None
    record = service.revoke_api_key(
        uow, key_id, change=service.Change(actor=actor_for(api_key), reason=reason)
    )
    return ApiKeyPublic.from_record(record)
