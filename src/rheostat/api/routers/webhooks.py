"""``/api/v1/webhooks``: where events are sent, and each webhook's delivery log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status

from rheostat import service
from rheostat.api.auth import actor_for
from rheostat.api.deps import AdminKey, Transaction
from rheostat.api.routers._params import ReasonQuery
from rheostat.api.schemas.common import ItemList
from rheostat.api.schemas.operations import (
    WebhookCreate,
    WebhookCreated,
    WebhookDeliveryPublic,
    WebhookPublic,
)
from rheostat.settings import Settings

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])

WebhookId = Annotated[str, Path(min_length=1, max_length=40, description="wh_...")]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_webhook(
    body: WebhookCreate, request: Request, uow: Transaction, api_key: AdminKey
) -> WebhookCreated:
    """Store a webhook; the answer holds its signing secret, shown this once (422 naming
    ``url`` for a link-local or metadata address, or a private one the server refuses)."""
    settings = getattr(request.app.state, "settings", None)
    created = service.create_webhook(
        uow,
        body.url,
        events=body.events,
        environment=body.environment,
        description=body.description,
        secret=body.secret,
        allow_private=not isinstance(settings, Settings) or settings.webhook_allow_private,
        change=service.Change(actor=actor_for(api_key), reason=body.reason),
    )
    public = WebhookPublic.from_record(created.webhook)
    return WebhookCreated(**public.model_dump(), secret=created.secret)


@router.get("")
def list_webhooks(uow: Transaction, _: AdminKey) -> ItemList[WebhookPublic]:
    """The webhooks, oldest first (never their secrets)."""
    return ItemList(items=[WebhookPublic.from_record(w) for w in service.list_webhooks(uow)])


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_webhook(
    webhook_id: WebhookId, uow: Transaction, api_key: AdminKey, reason: ReasonQuery = None
) -> Response:
    """Remove a webhook: nothing more is sent to it; its delivery log is kept."""
    service.remove_webhook(
        uow, webhook_id, change=service.Change(actor=actor_for(api_key), reason=reason)
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{webhook_id}/deliveries")
def webhook_deliveries(
    webhook_id: WebhookId,
    uow: Transaction,
    _: AdminKey,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ItemList[WebhookDeliveryPublic]:
    """The webhook's deliveries, newest first, with every attempt."""
    deliveries = service.webhook_deliveries(uow, webhook_id, limit=limit)
    return ItemList(items=[WebhookDeliveryPublic.from_record(d) for d in deliveries])
