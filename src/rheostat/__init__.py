"""rheostat: change production safely.

The names below are the stable public API; everything else may move.
"""

from importlib import import_module as _import_module

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
from rheostat.sdk import AsyncClient, Client, ClientStatus

__version__ = "0.1.0"

# Server-side facades import SQLAlchemy and Alembic: load them on first use, so that
# `import rheostat` stays light for applications that only evaluate flags.
_LAZY = {
    "FeatureFlagManager": "rheostat.facade.flags",
    "ABTestManager": "rheostat.facade.experiments",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'rheostat' has no attribute {name!r}")
    return getattr(_import_module(module), name)


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "ABTestManager",
    "AlreadyExists",
    "AsyncClient",
    "Client",
    "ClientStatus",
    "ConfigurationError",
    "Conflict",
    "Context",
    "ErrorCode",
    "Evaluation",
    "FeatureFlagManager",
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
