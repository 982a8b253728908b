"""``POST /api/v1/client/metrics``: windows of sufficient statistics, for release-plan gates.

An ``sdk`` key records into its own environment (naming another, in the query or the body,
is 403, checked before the body is read); an ``admin`` key names one.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from rheostat import service
from rheostat.api.deps import AnyKey, Transaction
from rheostat.api.schemas.metrics import MetricBatch, MetricReceiptPublic
from rheostat.errors import ValidationError
from rheostat.service import ApiKey, ApiKeyScope

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/client", tags=["sdk"])


async def _key_environment(
    api_key: AnyKey,
    environment: Annotated[
        str | None, Query(max_length=63, description="defaults to an sdk key's own environment")
    ] = None,
) -> str | None:
    """Authorise an sdk key before its body is validated; an admin key may name any (on the
    event loop: it does no I/O)."""
    target = environment or api_key.environment
    if target is not None:
        service.authorize(api_key, ApiKeyScope.SDK, target)
    return target


@router.post("/metrics")
def record_metrics(
    body: MetricBatch,
    uow: Transaction,
    api_key: AnyKey,
    authorised: Annotated[str | None, Depends(_key_environment)],
) -> MetricReceiptPublic:
    """Add windows of sufficient statistics; a window ``id`` sent again is not counted again."""
    target = _environment(api_key, authorised, body.environment)
    windows = [window.to_domain(index) for index, window in enumerate(body.windows)]
    receipt = service.record_metric_windows(uow, target, windows)
    return MetricReceiptPublic.from_domain(receipt)


def _environment(api_key: ApiKey, authorised: str | None, named: str | None) -> str:
    target = named or authorised
    if target is None:
        raise ValidationError(
            "name the environment: in the body or as ?environment=<key>",
            details={"path": "body.environment"},
        )
    service.authorize(api_key, ApiKeyScope.SDK, target)
    return target
