"""One exception root for rheostat, with a stable ``code`` on every error.

The tree::

    RheostatError                      code
    ├── InvalidDefinition (ValueError)  invalid_definition  a definition document is refused whole
    ├── ValidationError (ValueError)    validation_error    an argument or request field is wrong
    ├── NotFound (LookupError)          not_found           no such flag, environment, version...
    ├── AlreadyExists                   already_exists      a create would overwrite something
    ├── Conflict                        conflict            a stale write (optimistic concurrency)
    ├── Unauthenticated                 unauthenticated     no or unknown API key
    ├── PermissionDenied                permission_denied   the key lacks the scope
    ├── StorageError                    storage_error       the database failed or is unreachable
    └── ConfigurationError              configuration_error settings that cannot work

Services raise these; the HTTP API renders them as ``{"error": {"code", "message", "details"}}``
and the CLI maps them to exit statuses. This module imports nothing from rheostat.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

__all__ = [
    "AlreadyExists",
    "ConfigurationError",
    "Conflict",
    "InvalidDefinition",
    "NotFound",
    "PermissionDenied",
    "RheostatError",
    "StorageError",
    "Unauthenticated",
    "ValidationError",
]


class RheostatError(Exception):
    """Base of every error rheostat raises on purpose.

    Attributes:
        code: stable, machine-readable identifier (part of the public API).
        message: one human sentence naming what is wrong and where.
        details: structured facts for scripts (field paths, versions, ...).
    """

    code: ClassVar[str] = "rheostat_error"

    def __init__(self, message: str, *, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})


class InvalidDefinition(RheostatError, ValueError):
    """A definition document is refused; ``path`` names the bad field (``flags.x.rules[0]``)."""

    code = "invalid_definition"

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}" if path else reason, details={"path": path})
        self.path = path
        self.reason = reason


class ValidationError(RheostatError, ValueError):
    """An argument or request field is not acceptable."""

    code = "validation_error"


class NotFound(RheostatError, LookupError):
    """The named thing does not exist."""

    code = "not_found"


class AlreadyExists(RheostatError):
    """Creating would overwrite something that exists."""

    code = "already_exists"


class Conflict(RheostatError):
    """A write was based on a stale version; nothing was changed."""

    code = "conflict"


class Unauthenticated(RheostatError):
    """No API key, or one that is unknown or revoked."""

    code = "unauthenticated"


class PermissionDenied(RheostatError):
    """The API key is valid but its scope does not allow this."""

    code = "permission_denied"


class StorageError(RheostatError):
    """The database failed; the operation was rolled back."""

    code = "storage_error"


class ConfigurationError(RheostatError):
    """Settings that cannot work (bad URL, bad option combination)."""

    code = "configuration_error"
