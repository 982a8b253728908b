"""The OpenFeature Remote Evaluation Protocol's wire format: request in, JSON out.

Pure functions (no I/O), following ``open-feature/protocol``'s ``service/openapi.yaml``
(OFREP 0.3.0):

* a request body is ``{"context": {"targetingKey": "user-1", ...attributes}}``; ``targetingKey``
  becomes ``Context.key``, every other member an attribute. A body without ``context`` is an
  empty context (the Python provider sends ``{}`` when there is none).
* a success is ``{"key", "value", "reason", "variant", "metadata"}``; an error
  ``{"key", "errorCode", "errorDetails"}``; a bulk answer ``{"flags": [...], "metadata"}``.
* reasons are OpenFeature's: ``STATIC``, ``TARGETING_MATCH``, ``SPLIT``, ``DISABLED`` and
  ``DEFAULT`` as the engine says them; ``PREREQUISITE_FAILED`` (no OpenFeature word) is sent
  as ``DISABLED``, since the flag is off for that context. The engine's own reason is always
  in ``metadata.rheostatReason``, with ``metadata.flagVersion``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rheostat.flags import Context, ErrorCode, Reason
from rheostat.service.remote_evaluation import FlagResult

__all__ = [
    "OfrepRequest",
    "RequestProblem",
    "bulk_entity_tag",
    "encode",
    "ofrep_reason",
    "parse_request",
    "render_bulk",
    "render_bulk_problem",
    "render_result",
    "render_single_problem",
    "single_status",
]

_OFREP_REASONS: Mapping[Reason, str] = {
    Reason.STATIC: "STATIC",
    Reason.TARGETING_MATCH: "TARGETING_MATCH",
    Reason.SPLIT: "SPLIT",
    Reason.DISABLED: "DISABLED",
    Reason.DEFAULT: "DEFAULT",
    Reason.PREREQUISITE_FAILED: "DISABLED",
}
_NOT_JSON = frozenset({"NaN", "Infinity", "-Infinity"})


@dataclass(frozen=True, slots=True, kw_only=True)
class OfrepRequest:
    """A parsed evaluation request: the context, and its canonical JSON (for the bulk ETag)."""

    context: Context
    canonical: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestProblem:
    """Why a request body was refused: ``PARSE_ERROR`` or ``INVALID_CONTEXT``, and details."""

    error_code: ErrorCode
    details: str


def parse_request(body: bytes) -> OfrepRequest | RequestProblem:
    """Read an OFREP request body; a problem comes back as a value, never raised."""
    if not body.strip():
        return _empty_request()
    try:
        document = json.loads(body, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as error:  # bad UTF-8 and bad JSON are ValueErrors
        return RequestProblem(error_code=ErrorCode.PARSE_ERROR, details=f"body: not JSON ({error})")
    if not isinstance(document, dict):
        return _invalid(f"body: must be a JSON object, got {_json_type(document)}")
    raw = document.get("context")
    if raw is None:
        return _empty_request()
    if not isinstance(raw, dict):
        return _invalid(f"body.context: must be a JSON object, got {_json_type(raw)}")
    key = raw.get("targetingKey")
    if key is not None and not isinstance(key, str):
        return _invalid(f"body.context.targetingKey: must be a string, got {_json_type(key)}")
    attributes = {name: value for name, value in raw.items() if name != "targetingKey"}
    return OfrepRequest(
        context=Context(key=key or "", attributes=attributes),
        canonical=json.dumps(raw, sort_keys=True, separators=(",", ":")),
    )


def _empty_request() -> OfrepRequest:
    return OfrepRequest(context=Context(), canonical="{}")


def _invalid(details: str) -> RequestProblem:
    return RequestProblem(error_code=ErrorCode.INVALID_CONTEXT, details=details)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def ofrep_reason(reason: Reason) -> str:
    """The OpenFeature reason sent for the engine's ``reason`` (``UNKNOWN`` if it has none)."""
    return _OFREP_REASONS.get(reason, "UNKNOWN")


def render_result(result: FlagResult) -> dict[str, Any]:
    """One flag's OFREP body: ``evaluationSuccess``, or ``evaluationFailure``/``flagNotFound``."""
    metadata: dict[str, Any] = {"rheostatReason": result.reason.value}
    if result.version is not None:
        metadata["flagVersion"] = result.version
    if result.error_code is not None:
        return {
            "key": result.key,
            "errorCode": result.error_code.value,
            "errorDetails": result.message,
            "metadata": metadata,
        }
    return {
        "key": result.key,
        "value": result.value,
        "reason": ofrep_reason(result.reason),
        "variant": result.variant,
        "metadata": metadata,
    }


def single_status(result: FlagResult) -> int:
    """The status of a single evaluation: 200, 404 for an unknown flag, else 400."""
    if result.error_code is None:
        return 200
    if result.error_code is ErrorCode.FLAG_NOT_FOUND:
        return 404
    return 400


def render_bulk(results: Sequence[FlagResult], *, environment: str) -> dict[str, Any]:
    """The bulk body (``bulkEvaluationSuccess``): every flag, errors included per flag."""
    return {
        "flags": [render_result(result) for result in results],
        "metadata": {"environment": environment},
    }


def render_bulk_problem(problem: RequestProblem) -> dict[str, Any]:
    """The bulk body of a refused request (``bulkEvaluationFailure``)."""
    return {"errorCode": problem.error_code.value, "errorDetails": problem.details}


def render_single_problem(key: str, problem: RequestProblem) -> dict[str, Any]:
    """The single-flag body of a refused request (``evaluationFailure``)."""
    return {"key": key, "errorCode": problem.error_code.value, "errorDetails": problem.details}


def bulk_entity_tag(environment: str, document_etag: str, request: OfrepRequest) -> str:
    """The bulk answer's strong ETag: it changes when the environment, flags or context do.

    The answer depends on all three, so a client that changed its context never gets a 304
    for the old one.
    """
    tagged = f"{environment}\n{document_etag}\n{request.canonical}"
    digest = hashlib.sha256(tagged.encode()).hexdigest()
    return f'"{digest[:32]}"'


def encode(body: Mapping[str, Any]) -> bytes:
    """Compact JSON, ASCII-escaped (so any string, even a lone surrogate, encodes)."""
    return json.dumps(body, separators=(",", ":")).encode("ascii")
