"""``/api/v1/client/flags``: the environment's flag document, for SDKs.

An ``sdk`` key reads the environment it was made for (``?environment=`` may repeat it; another
one is 403). An ``admin`` key names the environment. The response carries a strong ``ETag``;
send it back as ``If-None-Match`` and an unchanged document answers ``304`` with no body.
``X-Rheostat-Revision`` names the environment's revision: send it as ``Last-Event-ID`` to
``/api/v1/client/stream`` and the stream starts after it, without sending the document again.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response, Security, status
from fastapi.security import HTTPAuthorizationCredentials

from rheostat.api.deps import SnapshotsDep, StoreDep, bearer
from rheostat.api.sdk_access import sdk_unit
from rheostat.api.telemetry import count_flag_document

__all__ = ["is_etag_matched", "router"]

router = APIRouter(prefix="/api/v1/client", tags=["sdk"])

_DOCUMENT_EXAMPLE: dict[str, Any] = {"version": 1, "segments": {}, "flags": {}}


@router.get(
    "/flags",
    responses={
        200: {"description": "the native flag document", "content": {"application/json": {}}},
        304: {"description": "unchanged since the ETag sent in If-None-Match"},
    },
)
def client_flags(
    request: Request,
    store: StoreDep,
    snapshots: SnapshotsDep,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
    environment: Annotated[
        str | None, Query(max_length=63, description="required for admin keys")
    ] = None,
    x_api_key: Annotated[str | None, Header(description="alternative to Bearer")] = None,
    if_none_match: Annotated[str | None, Header(alias="If-None-Match")] = None,
) -> Response:
    """Return every flag and segment of the environment, ready for ``FlagSet.from_dict``."""
    with sdk_unit(store, request, environment=environment, x_api_key=x_api_key) as (uow, target):
        current = snapshots.get(uow, target)
    headers = {
        "ETag": current.etag,
        "Cache-Control": "no-cache",
        "X-Rheostat-Revision": str(current.revision),
    }
    unchanged = if_none_match is not None and is_etag_matched(if_none_match, current.etag)
    count_flag_document(request, target, not_modified=unchanged)
    if unchanged:
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(content=current.body, media_type="application/json", headers=headers)


def is_etag_matched(if_none_match: str, etag: str) -> bool:
    """Whether ``If-None-Match`` names ``etag`` (weak comparison, as RFC 9110 asks for it)."""
    wanted = etag.removeprefix("W/")
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or wanted in tags
