"""Shapes shared by every resource: change metadata, lists, the error body."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

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
    """Base of request bodies: unknown fields are refused, so a typo is a 422, not ignored."""

    model_config = ConfigDict(extra="forbid")


class ChangeRequest(RequestModel):
    """Fields every change may carry.

    Attributes:
        reason: why, recorded in the audit log and the flag's history.
        expected_version: the version the change is based on (or send ``If-Match``); a stale
            one is refused with 409 ``conflict``.
    """

    reason: str | None = Field(default=None, max_length=2000)
    expected_version: int | None = Field(default=None, ge=1, le=MAX_VERSION)


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
