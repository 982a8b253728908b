"""Validating definitions with the engine: an environment is valid when its FlagSet builds."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rheostat.errors import InvalidDefinition
from rheostat.flags import FlagSet
from rheostat.inputs import find_lone_surrogate

__all__ = ["MAX_DEPTH", "canonical_environment", "is_same_definition", "without_version"]

MAX_DEPTH = 64
"""How deep lists and mappings may nest in one field of a definition (a rule's condition
values sit 4 levels below ``rules``; a JSON variant is a configuration document)."""


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
            _check_body(body, f"{part}.{key}")
    document = {
        "version": 1,
        "segments": {key: dict(body) for key, body in segments.items()},
        "flags": {key: without_version(body) for key, body in flags.items()},
    }
    canonical = FlagSet.from_dict(document).to_dict()
    canonical["flags"] = {key: without_version(body) for key, body in canonical["flags"].items()}
    return canonical


def is_same_definition(before: Any, after: Any) -> bool:
    """Whether two stored definitions are identical, the order of their keys included.

    Dict equality ignores key order, but a split's order is meaning: variants take bucket
    ranges in the order of its keys, so a change that only reorders them moves users.
    """
    return json.dumps(before) == json.dumps(after)


def without_version(definition: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``definition`` without its ``version`` field (if it is a mapping at all)."""
    if not isinstance(definition, Mapping):
        return definition  # the engine reports the bad type
    return {name: value for name, value in definition.items() if name != "version"}


def _check_body(body: Any, path: str) -> None:
    """Refuse a definition that is not a mapping, nests too deeply, or is not strict JSON."""
    if not isinstance(body, Mapping):
        raise InvalidDefinition(path, f"must be a mapping of fields, got {type(body).__name__}")
    for field, value in body.items():
        _check_depth(value, f"{path}.{field}")
    surrogate = find_lone_surrogate(body, path)
    if surrogate is not None:
        raise InvalidDefinition(
            surrogate, "is not valid Unicode: it holds a lone surrogate, which cannot be stored"
        )
    try:
        json.dumps(body, allow_nan=False)
    except (TypeError, ValueError) as error:  # dates, sets, NaN...: they could not be stored
        raise InvalidDefinition(path, f"must hold only JSON values: {error}") from error


def _check_depth(value: Any, path: str) -> None:
    """Refuse ``value`` if lists and mappings nest in it more than ``MAX_DEPTH`` levels deep.

    Walks without recursion, so that a structure nested thousands deep is refused with its
    path instead of ending in a ``RecursionError``.
    """
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if not isinstance(item, Mapping | list | tuple):
            continue
        if depth > MAX_DEPTH:
            raise InvalidDefinition(path, f"nests lists and mappings more than {MAX_DEPTH} deep")
        children = item.values() if isinstance(item, Mapping) else item
        pending.extend((child, depth + 1) for child in children)
