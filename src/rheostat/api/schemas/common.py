"""Shapes shared by every resource: change metadata, lists, the error body."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rheostat.inputs import find_lone_surrogate

__all__ = [
    "MAX_EVENT_ID",
    "MAX_VERSION",
    "ChangeRequest",
    "ErrorDetail",
    "ErrorResponse",
    "ItemList",
    "RequestModel",
]

MAX_VERSION = 2_147_483_647
"""The largest version the database stores; a larger one is refused as invalid, not sent on."""
MAX_EVENT_ID = 2**63 - 1
"""The largest audit event id the database stores."""

ItemT = TypeVar("ItemT")


class RequestModel(BaseModel):
    """Base of request bodies: strict, so a wrong type is a 422 and never coerced.

    Unknown fields are refused (a typo is a 422, not ignored); ``"50"`` or ``true`` is not a
    percentage and ``true`` is not version 1; NaN and infinity are not numbers; and a string
    holding a lone surrogate (JSON ``"\\ud800"``, not encodable as UTF-8) is refused naming its
    field, anywhere in the body, before anything is stored.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _refuse_lone_surrogates(cls, data: Any) -> Any:
        where = find_lone_surrogate(data, "body")
        if where is not None:
            raise ValueError(f"{where} is not valid Unicode: it holds a lone surrogate")
        return data


class ChangeRequest(RequestModel):
    """Fields every change may carry.

    Attributes:
        reason: why, recorded in the audit log and the flag's history.
        expected_version: the version the change is based on (or send ``If-Match``); a stale
            one is refused with 409 ``conflict``.
    """

    reason: str | None = Field(default=None, max_length=2000)
    expected_version: int | None = Field(default=None, ge=1, le=MAX_VERSION, strict=True)


class ItemList(BaseModel, Generic[ItemT]):
    """A list response: ``{"items": [...]}``."""

    items: list[ItemT]


class ErrorDetail(BaseModel):
    """The inside of an error response."""

    code: str = Field(description="stable identifier, e.g. not_found, conflict")
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class ErrorResponse(BaseModel):
    """Every failing response: ``{"error": {"code", "message", "details"}}``."""

    error: ErrorDetail
