"""Validating definitions with the engine: an environment is valid when its FlagSet builds."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rheostat.errors import InvalidDefinition
from rheostat.flags import FlagSet

__all__ = ["canonical_environment", "without_version"]


def canonical_environment(
    flags: Mapping[str, Mapping[str, Any]], segments: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """Validate an environment's flags and segments together; return the canonical document.

    The store keeps versions itself, so a ``version`` field in a definition is dropped.

    Raises:
        InvalidDefinition: naming the path (``flags.<key>.rules[0].serve``) of the first problem.
    """
    for part, bodies in (("segments", segments), ("flags", flags)):
        for key, body in bodies.items():
            _check_json(body, f"{part}.{key}")
    document = {
        "version": 1,
        "segments": {key: dict(body) for key, body in segments.items()},
        "flags": {key: without_version(body) for key, body in flags.items()},
    }
    canonical = FlagSet.from_dict(document).to_dict()
    canonical["flags"] = {key: without_version(body) for key, body in canonical["flags"].items()}
    return canonical


def without_version(definition: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``definition`` without its ``version`` field (if it is a mapping at all)."""
    if not isinstance(definition, Mapping):
        return definition  # the engine reports the bad type
    return {name: value for name, value in definition.items() if name != "version"}


def _check_json(body: Any, path: str) -> None:
    """Refuse what strict JSON cannot hold (dates, sets, NaN...): it could not be stored."""
    try:
        json.dumps(body, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise InvalidDefinition(path, f"must hold only JSON values: {error}") from error
