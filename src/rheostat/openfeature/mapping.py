"""Pure translations between rheostat's evaluation model and OpenFeature's.

``context_of`` turns an OpenFeature ``EvaluationContext`` into a rheostat ``Context``;
``resolution_of`` turns a rheostat ``Evaluation`` into the ``FlagResolutionDetails`` an
OpenFeature client expects for the type it asked for (a value of another type is
``TYPE_MISMATCH`` with the caller's default, as the specification requires).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode as OpenFeatureErrorCode
from openfeature.flag_evaluation import FlagMetadata, FlagResolutionDetails
from openfeature.flag_evaluation import Reason as OpenFeatureReason

from rheostat.flags import Context, ErrorCode, Evaluation, Reason

__all__ = ["NOT_READY_MESSAGE", "Kind", "context_of", "not_ready", "resolution_of", "value_of"]

NOT_READY_MESSAGE = "rheostat: no flags yet (the server has not answered and there is no backup)"

# OpenFeature has no PREREQUISITE_FAILED or OVERRIDE: the specification lets a provider return
# its own reason strings, so those two keep rheostat's names.
_REASONS: Mapping[Reason, str] = {
    Reason.STATIC: OpenFeatureReason.STATIC,
    Reason.TARGETING_MATCH: OpenFeatureReason.TARGETING_MATCH,
    Reason.SPLIT: OpenFeatureReason.SPLIT,
    Reason.DEFAULT: OpenFeatureReason.DEFAULT,
    Reason.DISABLED: OpenFeatureReason.DISABLED,
    Reason.STALE: OpenFeatureReason.STALE,
    Reason.ERROR: OpenFeatureReason.ERROR,
    Reason.PREREQUISITE_FAILED: Reason.PREREQUISITE_FAILED.value,
    Reason.OVERRIDE: Reason.OVERRIDE.value,
}

_ERROR_CODES: Mapping[ErrorCode, OpenFeatureErrorCode] = {
    ErrorCode.FLAG_NOT_FOUND: OpenFeatureErrorCode.FLAG_NOT_FOUND,
    ErrorCode.TYPE_MISMATCH: OpenFeatureErrorCode.TYPE_MISMATCH,
    ErrorCode.PARSE_ERROR: OpenFeatureErrorCode.PARSE_ERROR,
    ErrorCode.TARGETING_KEY_MISSING: OpenFeatureErrorCode.TARGETING_KEY_MISSING,
    ErrorCode.INVALID_CONTEXT: OpenFeatureErrorCode.INVALID_CONTEXT,
    ErrorCode.GENERAL: OpenFeatureErrorCode.GENERAL,
}

_ERROR_MESSAGES: Mapping[ErrorCode, str] = {
    ErrorCode.FLAG_NOT_FOUND: "no flag {key!r}",
    ErrorCode.TYPE_MISMATCH: "flag {key!r} does not hold a {kind}",
    ErrorCode.INVALID_CONTEXT: "the evaluation context is not valid for flag {key!r}",
    ErrorCode.GENERAL: "evaluating flag {key!r} failed (logged)",
}


class Kind(StrEnum):
    """The type an OpenFeature client asked for."""

    BOOLEAN = "boolean"
    STRING = "string"
    INTEGER = "integer"
    FLOAT = "float"
    OBJECT = "object"


def context_of(evaluation_context: EvaluationContext | None) -> Context:
    """``targeting_key`` becomes the key (empty: anonymous), ``attributes`` the attributes."""
    if evaluation_context is None:
        return Context()
    return Context(
        key=evaluation_context.targeting_key or "",
        attributes=dict(evaluation_context.attributes or {}),
    )


def value_of(value: Any, kind: Kind) -> tuple[bool, Any]:
    """Return ``(True, value)`` converted to ``kind``, or ``(False, None)`` if it is not one.

    A bool is not a number; an integral float is an integer (JSON and YAML may spell 3 as
    3.0); an integer is a float.
    """
    if kind is Kind.BOOLEAN:
        return isinstance(value, bool), value
    if kind is Kind.STRING:
        return isinstance(value, str), value
    if kind is Kind.OBJECT:
        is_object = isinstance(value, Mapping) or (
            isinstance(value, Sequence) and not isinstance(value, str | bytes)
        )
        return is_object, value
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False, None
    if kind is Kind.FLOAT:
        return True, float(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return True, int(value)
        return False, None
    return True, value


def not_ready(default: Any, metadata: FlagMetadata) -> FlagResolutionDetails[Any]:
    """The caller's default: the provider has no flags to evaluate yet."""
    return FlagResolutionDetails(
        value=default,
        error_code=OpenFeatureErrorCode.PROVIDER_NOT_READY,
        error_message=NOT_READY_MESSAGE,
        reason=OpenFeatureReason.ERROR,
        flag_metadata=metadata,
    )


def resolution_of(
    key: str, evaluation: Evaluation, default: Any, kind: Kind, metadata: FlagMetadata
) -> FlagResolutionDetails[Any]:
    """Translate ``evaluation`` of ``key`` for a client that asked for a ``kind``.

    A client with no flags at all (before the first download, with no backup) answers
    ``DEFAULT`` with no variant: that is ``PROVIDER_NOT_READY`` here.
    """
    if evaluation.reason is Reason.DEFAULT and evaluation.variant is None:
        return not_ready(default, metadata)
    if evaluation.reason is Reason.ERROR:
        return _error(key, evaluation.error_code or ErrorCode.GENERAL, default, kind, metadata)
    matches, value = value_of(evaluation.value, kind)
    if not matches:
        return _error(key, ErrorCode.TYPE_MISMATCH, default, kind, metadata)
    return FlagResolutionDetails(
        value=value,
        reason=_REASONS.get(evaluation.reason, OpenFeatureReason.UNKNOWN),
        variant=evaluation.variant,
        flag_metadata=metadata,
    )


def _error(
    key: str, code: ErrorCode, default: Any, kind: Kind, metadata: FlagMetadata
) -> FlagResolutionDetails[Any]:
    template = _ERROR_MESSAGES.get(code, "flag {key!r}: {code}")
    return FlagResolutionDetails(
        value=default,
        error_code=_ERROR_CODES.get(code, OpenFeatureErrorCode.GENERAL),
        error_message=template.format(key=key, kind=kind.value, code=code.value),
        reason=OpenFeatureReason.ERROR,
        flag_metadata=metadata,
    )
