"""Schemas of server-side evaluation: ``/api/v1/client/evaluate`` and the OFREP documents.

The OFREP models describe what ``rheostat.api.ofrep`` renders (they document the routes in
OpenAPI; the routes encode plain dicts on the hot path). Names follow OFREP's camelCase.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, JsonValue

from rheostat.api.schemas.common import RequestModel
from rheostat.flags import Context, ErrorCode, Reason
from rheostat.service.remote_evaluation import FlagResult

__all__ = [
    "EvaluateIn",
    "EvaluationContextIn",
    "EvaluationsPublic",
    "FlagEvaluationPublic",
    "OfrepBulkFailure",
    "OfrepBulkSuccess",
    "OfrepFailure",
    "OfrepNotFound",
    "OfrepSuccess",
]

MAX_FLAGS_PER_REQUEST = 1000

MetadataValue = bool | int | float | str


class EvaluationContextIn(RequestModel):
    """Who is asking, as ``rheostat.Context``: the bucketing key and attributes."""

    key: str = Field(default="", description="the bucketing id; empty means anonymous")
    attributes: dict[str, JsonValue] = Field(
        default_factory=dict, examples=[{"country": "CA", "plan": "pro"}]
    )

    def to_domain(self) -> Context:
        """The engine's context."""
        return Context(key=self.key, attributes=self.attributes)


class EvaluateIn(RequestModel):
    """A context, and the flags to evaluate for it (every flag when omitted)."""

    context: EvaluationContextIn = Field(default_factory=EvaluationContextIn)
    flags: list[str] | None = Field(
        default=None,
        max_length=MAX_FLAGS_PER_REQUEST,
        description="flag keys, answered in this order; omit for every flag (sorted)",
        examples=[["new-checkout", "search-ranking"]],
    )


class FlagEvaluationPublic(BaseModel):
    """One flag's answer, as ``FlagSet.evaluate`` gives it."""

    key: str
    value: JsonValue = Field(description="the variant's value; null on error")
    variant: str | None = Field(description="the variant's name; null on error")
    reason: Reason
    error_code: ErrorCode | None = Field(description="set when reason is ERROR")
    error_message: str | None = Field(description="what went wrong, for people")
    version: int | None = Field(description="the flag version evaluated; null when unknown")

    @classmethod
    def from_domain(cls, result: FlagResult) -> FlagEvaluationPublic:
        """The API's view of a service result."""
        return cls(
            key=result.key,
            value=result.value,
            variant=result.variant,
            reason=result.reason,
            error_code=result.error_code,
            error_message=result.message or None,
            version=result.version,
        )


class EvaluationsPublic(BaseModel):
    """The answers, in the order asked, and the environment revision they were computed at."""

    environment: str
    revision: int
    results: list[FlagEvaluationPublic]


# OFREP (open-feature/protocol, service/openapi.yaml) -----------------------------------------

OfrepReason = Literal["STATIC", "TARGETING_MATCH", "SPLIT", "DISABLED", "DEFAULT", "UNKNOWN"]


class OfrepSuccess(BaseModel):
    """``evaluationSuccess``: the flag's value, reason and variant."""

    key: str
    value: JsonValue = Field(description="the variant's value (boolean, string, number, object)")
    reason: OfrepReason
    variant: str
    metadata: dict[str, MetadataValue] = Field(
        description="flagVersion, and rheostatReason (the engine's own reason)"
    )


class OfrepFailure(BaseModel):
    """``evaluationFailure``: this flag could not be evaluated for this context."""

    key: str
    errorCode: Literal["PARSE_ERROR", "TARGETING_KEY_MISSING", "INVALID_CONTEXT", "GENERAL"]  # noqa: N815  # OFREP's name
    errorDetails: str  # noqa: N815  # OFREP's name
    metadata: dict[str, MetadataValue] | None = None


class OfrepNotFound(BaseModel):
    """``flagNotFound``: no flag has this key in the key's environment."""

    key: str
    errorCode: Literal["FLAG_NOT_FOUND"]  # noqa: N815  # OFREP's name
    errorDetails: str  # noqa: N815  # OFREP's name
    metadata: dict[str, MetadataValue] | None = None


class OfrepBulkSuccess(BaseModel):
    """``bulkEvaluationSuccess``: every flag of the environment, each a success or a failure."""

    flags: list[OfrepSuccess | OfrepFailure]
    metadata: dict[str, MetadataValue] = Field(description="environment")


class OfrepBulkFailure(BaseModel):
    """``bulkEvaluationFailure``: the request itself was refused."""

    errorCode: Literal["PARSE_ERROR", "INVALID_CONTEXT"]  # noqa: N815  # OFREP's name
    errorDetails: str  # noqa: N815  # OFREP's name


OFREP_CONTEXT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": (
        "OpenFeature evaluation context: targetingKey (the bucketing key) and any attributes"
        " the flags' conditions test"
    ),
    "properties": {"targetingKey": {"type": "string"}},
    "additionalProperties": True,
    "example": {"targetingKey": "user-123", "country": "CA", "plan": "pro"},
}
OFREP_REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "description": "evaluationRequest; a body without context is an empty one",
                    "properties": {"context": OFREP_CONTEXT_SCHEMA},
                },
                "example": {"context": {"targetingKey": "user-123", "country": "CA"}},
            }
        },
    }
}
"""The OFREP request body for OpenAPI (the routes read the body themselves, to answer a bad
one with OFREP's 400 rather than a 422)."""
