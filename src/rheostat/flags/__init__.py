"""The flag engine: pure, no I/O. Definitions in, evaluations out."""

from rheostat.flags.engine import FlagSet
from rheostat.flags.model import (
    Context,
    ErrorCode,
    Evaluation,
    Flag,
    FlagType,
    Reason,
    Variant,
)

__all__ = ["Context", "ErrorCode", "Evaluation", "Flag", "FlagSet", "FlagType", "Reason", "Variant"]
