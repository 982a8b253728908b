"""One error shape for every failure: ``{"error": {"code", "message", "details"}}``.

Services raise ``rheostat.errors``; the handlers here give each code its status. Request
validation failures are ``422 validation_error`` with the path of every bad field in
``details.errors``; so is a body that cannot be decoded at all (FastAPI's 400). Unknown routes
and methods keep their 404 and 405 in the same shape.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from rheostat.errors import RheostatError

__all__ = ["STATUS_BY_CODE", "error_body", "install_error_handlers", "status_for"]

STATUS_BY_CODE: Mapping[str, int] = {
    "not_found": 404,
    "already_exists": 409,
    "conflict": 409,
    "validation_error": 422,
    "invalid_definition": 422,
    "unauthenticated": 401,
    "permission_denied": 403,
    "storage_error": 503,
    "configuration_error": 500,
}

_CODE_BY_HTTP_STATUS: Mapping[int, str] = {
    401: "unauthenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
}


def status_for(code: str) -> int:
    """Return the HTTP status for an error ``code`` (500 for one this table does not know)."""
    return STATUS_BY_CODE.get(code, 500)


def error_body(code: str, message: str, details: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Return the error document every failing response carries."""
    return {"error": {"code": code, "message": message, "details": dict(details or {})}}


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that render every error in the one shape."""
    app.add_exception_handler(RheostatError, _rheostat_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _request_validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_exception)  # type: ignore[arg-type]


async def _rheostat_error(_: Request, error: RheostatError) -> JSONResponse:
    status = status_for(error.code)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    body = error_body(error.code, error.message, error.details)
    return JSONResponse(body, status_code=status, headers=headers)


async def _request_validation_error(_: Request, error: RequestValidationError) -> JSONResponse:
    problems = [_describe_problem(problem) for problem in error.errors()]
    first = problems[0] if problems else {"path": "", "message": "invalid request"}
    message = f"{first['path']}: {first['message']}" if first["path"] else first["message"]
    body = error_body("validation_error", message, {"errors": problems})
    return JSONResponse(body, status_code=422)


async def _http_exception(request: Request, error: HTTPException) -> JSONResponse:
    if error.status_code == status.HTTP_400_BAD_REQUEST:  # FastAPI could not read the body
        return _unreadable_body(error)
    code = _CODE_BY_HTTP_STATUS.get(error.status_code, "http_error")
    message = _ROUTING_MESSAGES.get(error.status_code, "{detail}").format(
        method=request.method, path=request.url.path, detail=error.detail
    )
    body = error_body(code, message)
    return JSONResponse(body, status_code=error.status_code, headers=error.headers)


def _unreadable_body(error: HTTPException) -> JSONResponse:
    """A body FastAPI could not decode (not UTF-8, say) is malformed JSON: 422, like the rest."""
    reason = str(error.__cause__) if error.__cause__ is not None else str(error.detail)
    problem = {"path": "body", "message": f"invalid JSON ({reason})", "type": "json_invalid"}
    body = error_body("validation_error", f"body: {problem['message']}", {"errors": [problem]})
    return JSONResponse(body, status_code=422)


_ROUTING_MESSAGES: Mapping[int, str] = {
    404: "no such endpoint: {method} {path}",
    405: "{method} is not allowed on {path}",
}


def _describe_problem(problem: Mapping[str, Any]) -> dict[str, Any]:
    if problem.get("type") == "json_invalid":
        reason = (problem.get("ctx") or {}).get("error", "malformed")
        return {"path": "body", "message": f"invalid JSON ({reason})", "type": "json_invalid"}
    return {
        "path": field_path(problem.get("loc", ())),
        "message": str(problem.get("msg", "invalid value")),
        "type": str(problem.get("type", "value_error")),
    }


def field_path(location: Sequence[Any]) -> str:
    """Render a pydantic location as a dotted path: ``body.variants.on``, ``query.limit``."""
    parts: list[str] = []
    for part in location:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(f".{part}" if parts else str(part))
    return "".join(parts)
