"""rheostat: change production safely.

The names below are the stable public API; everything else may move.
"""

from rheostat.errors import (
    AlreadyExists,
    ConfigurationError,
    Conflict,
    InvalidDefinition,
    NotFound,
    PermissionDenied,
    RheostatError,
    StorageError,
    Unauthenticated,
    ValidationError,
)
from rheostat.flags import (
    Context,
    ErrorCode,
    Evaluation,
    FlagSet,
    FlagType,
    Reason,
    Variant,
)

__version__ = "0.1.0"

__all__ = [
    "AlreadyExists",
    "ConfigurationError",
    "Conflict",
    "Context",
    "ErrorCode",
    "Evaluation",
    "FlagSet",
    "FlagType",
    "InvalidDefinition",
    "NotFound",
    "PermissionDenied",
    "Reason",
    "RheostatError",
    "StorageError",
    "Unauthenticated",
    "ValidationError",
    "Variant",
    "__version__",
]
