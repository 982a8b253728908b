"""Suggestions: the closest existing key, added to a flag or environment that is not found.

A mistyped key (``rheostat flags get new-chekout``) is answered with the key the user most
likely meant, looked up in a fresh read-only transaction once the command's own has ended.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from rheostat import service
from rheostat.errors import NotFound, RheostatError

__all__ = ["closest_key", "with_suggestion"]


def closest_key(key: str, candidates: Iterable[str]) -> str | None:
    """Return the candidate closest to ``key`` (``difflib``'s ratio of at least 0.6), if any."""
    matches = difflib.get_close_matches(key, list(candidates), n=1)
    return matches[0] if matches else None


def with_suggestion(store: service.SqlStore, error: NotFound) -> NotFound:
    """Return ``error`` naming the closest existing flag or environment, or ``error`` itself.

    Only a key that never existed gets a suggestion (not a missing version of a real flag);
    a lookup that fails on its own leaves the error as it was.
    """
    try:
        with store.reading() as uow:
            key, candidates = _lookup(uow, error.details)
    except RheostatError:
        return error
    suggestion = None if key is None else closest_key(key, candidates)
    if suggestion is None or suggestion == key:
        return error
    return NotFound(
        f"{error.message}; did you mean {suggestion!r}?",
        details={**error.details, "suggestion": suggestion},
    )


def _lookup(uow: service.UnitOfWork, details: Mapping[str, Any]) -> tuple[str | None, list[str]]:
    """The key that was not found and the existing keys it may be a typo of."""
    environment, flag = details.get("environment"), details.get("flag")
    if isinstance(flag, str) and isinstance(environment, str):
        if _has_history(uow, environment, flag):
            return None, []
        return flag, [record.key for record in service.list_flags(uow, environment)]
    if isinstance(environment, str) and set(details) == {"environment"}:
        return environment, [found.key for found in service.list_environments(uow)]
    return None, []


def _has_history(uow: service.UnitOfWork, environment: str, flag: str) -> bool:
    try:
        service.flag_history(uow, environment, flag)
    except NotFound:
        return False
    return True
