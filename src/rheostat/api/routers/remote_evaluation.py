"""Evaluation on the server: OFREP (``/ofrep/v1/evaluate/flags[/{key}]``) and
``POST /api/v1/client/evaluate``.

Keys and environments as for ``/api/v1/client/flags``: an ``sdk`` key evaluates in the
environment it was made for; an ``admin`` key names one with ``?environment=``. Each request is
one short transaction in one worker thread (``sdk_unit``): the key is checked and the
environment's revision read; the flags come from the process's compiled snapshot, so the
document is neither read nor compiled again until it changes.

The OFREP routes read their body themselves: a body that is not JSON answers OFREP's 400
``PARSE_ERROR`` and a context of the wrong shape 400 ``INVALID_CONTEXT`` (both after the key
is checked), where the rest of the API would answer 422.
"""

from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response, Security, status
from fastapi.security import HTTPAuthorizationCredentials

from rheostat.api import ofrep
from rheostat.api.deps import bearer, snapshots_of, store_of
from rheostat.api.routers.client import is_etag_matched
from rheostat.api.schemas.common import ErrorResponse
from rheostat.api.schemas.remote_evaluation import (
    OFREP_REQUEST_BODY,
    EvaluateIn,
    EvaluationsPublic,
    FlagEvaluationPublic,
    OfrepBulkFailure,
    OfrepBulkSuccess,
    OfrepFailure,
    OfrepNotFound,
    OfrepSuccess,
)
from rheostat.api.sdk_access import sdk_unit
from rheostat.api.telemetry import count_evaluations
from rheostat.errors import ConfigurationError
from rheostat.service.remote_evaluation import (
    CompiledSnapshot,
    FlagSetCache,
    evaluate_flag,
    evaluate_flags,
)

__all__ = ["router"]

router = APIRouter()

_JSON = "application/json"
_RATE_LIMITED: dict[str, Any] = {
    "model": ErrorResponse,
    "description": "too many requests for this key; retry after Retry-After seconds",
    "headers": {"Retry-After": {"description": "seconds to wait", "schema": {"type": "string"}}},
}
_CACHE_LOCK = threading.Lock()


def flag_sets_of(request: Request) -> FlagSetCache:
    """The process's compiled snapshots (created on first use, kept on ``app.state``)."""
    state = request.app.state
    cache = getattr(state, "flag_sets", None)
    if cache is None:
        with _CACHE_LOCK:
            cache = getattr(state, "flag_sets", None)
            if cache is None:
                cache = FlagSetCache()
                state.flag_sets = cache
    if not isinstance(cache, FlagSetCache):
        raise ConfigurationError("app.state.flag_sets is not a FlagSetCache")
    return cache


def compiled_flags(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
    environment: Annotated[
        str | None, Query(max_length=63, description="admin keys only; sdk keys use their own")
    ] = None,
    x_api_key: Annotated[str | None, Header(description="alternative to Bearer")] = None,
) -> CompiledSnapshot:
    """Check the key; return its environment's flags as of now (compiled once per change).

    The only worker-thread hop of these routes (the store, snapshot cache and compiled cache
    are looked up here rather than as dependencies of their own, each of which would be a
    hop): a connection is held only inside it (``sdk_unit``), and the routes then evaluate on
    the event loop (pure and short).
    """
    store, snapshots = store_of(request), snapshots_of(request)
    with sdk_unit(store, request, environment=environment, x_api_key=x_api_key) as (uow, target):
        current = snapshots.get(uow, target)
    return flag_sets_of(request).compiled(current)


CompiledFlags = Annotated[CompiledSnapshot, Depends(compiled_flags)]


def _json(
    body: dict[str, Any], status_code: int, headers: dict[str, str] | None = None
) -> Response:
    return Response(ofrep.encode(body), status_code=status_code, media_type=_JSON, headers=headers)


@router.post(
    "/ofrep/v1/evaluate/flags/{key}",
    tags=["ofrep"],
    openapi_extra=OFREP_REQUEST_BODY,
    response_class=Response,
    responses={
        200: {"model": OfrepSuccess, "description": "the flag's value, reason and variant"},
        400: {
            "model": OfrepFailure,
            "description": "PARSE_ERROR, INVALID_CONTEXT, or TARGETING_KEY_MISSING (the flag"
            " buckets by the targeting key and the context has none)",
        },
        404: {
            "model": OfrepNotFound | ErrorResponse,
            "description": "FLAG_NOT_FOUND (OFREP body); an admin key's unknown environment"
            " (rheostat's error body)",
        },
        429: _RATE_LIMITED,
    },
)
async def ofrep_evaluate_flag(
    key: Annotated[str, Path(description="the flag key")],
    request: Request,
    compiled: CompiledFlags,
) -> Response:
    """OFREP single-flag evaluation (dynamic context: server-side OpenFeature providers)."""
    parsed = ofrep.parse_request(await request.body())
    if isinstance(parsed, ofrep.RequestProblem):
        return _json(ofrep.render_single_problem(key, parsed), status.HTTP_400_BAD_REQUEST)
    result = evaluate_flag(compiled, key, parsed.context, targeting_key_required=True)
    count_evaluations(request, compiled.environment, "/ofrep/v1/evaluate/flags/{key}")
    return _json(ofrep.render_result(result), ofrep.single_status(result))


@router.post(
    "/ofrep/v1/evaluate/flags",
    tags=["ofrep"],
    openapi_extra=OFREP_REQUEST_BODY,
    response_class=Response,
    responses={
        200: {
            "model": OfrepBulkSuccess,
            "description": "every flag of the environment; a flag that cannot be evaluated for"
            " this context is an evaluationFailure in the list",
            "headers": {
                "ETag": {
                    "description": "send it back as If-None-Match: 304 while neither the flags"
                    " nor the context changed",
                    "schema": {"type": "string"},
                }
            },
        },
        304: {"description": "neither the flags nor the context changed since the ETag"},
        400: {"model": OfrepBulkFailure, "description": "PARSE_ERROR or INVALID_CONTEXT"},
        429: _RATE_LIMITED,
    },
)
async def ofrep_evaluate_flags(
    request: Request,
    compiled: CompiledFlags,
    if_none_match: Annotated[str | None, Header(alias="If-None-Match")] = None,
) -> Response:
    """OFREP bulk evaluation (static context: client-side providers cache every flag)."""
    parsed = ofrep.parse_request(await request.body())
    if isinstance(parsed, ofrep.RequestProblem):
        return _json(ofrep.render_bulk_problem(parsed), status.HTTP_400_BAD_REQUEST)
    etag = ofrep.bulk_entity_tag(compiled.environment, compiled.etag, parsed)
    headers = {
        "ETag": etag,
        "Cache-Control": "no-cache",
        "X-Rheostat-Revision": str(compiled.revision),
    }
    if if_none_match is not None and is_etag_matched(if_none_match, etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    results = evaluate_flags(compiled, parsed.context, targeting_key_required=True)
    count_evaluations(request, compiled.environment, "/ofrep/v1/evaluate/flags", len(results))
    return _json(ofrep.render_bulk(results, environment=compiled.environment), 200, headers)


@router.post("/api/v1/client/evaluate", tags=["sdk"])
async def client_evaluate(
    request: Request, evaluate: EvaluateIn, compiled: CompiledFlags
) -> EvaluationsPublic:
    """Evaluate flags on the server, exactly as ``FlagSet.evaluate`` would locally.

    Each result has the value, variant, reason and, on error, ``error_code``
    (``FLAG_NOT_FOUND`` for an unknown key).
    """
    results = evaluate_flags(compiled, evaluate.context.to_domain(), evaluate.flags)
    count_evaluations(request, compiled.environment, "/api/v1/client/evaluate", len(results))
    return EvaluationsPublic(
        environment=compiled.environment,
        revision=compiled.revision,
        results=[FlagEvaluationPublic.from_domain(result) for result in results],
    )
