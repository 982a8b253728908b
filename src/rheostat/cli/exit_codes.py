"""Exit statuses of the ``rheostat`` command, and which error maps to which.

``0`` the command did what was asked; ``1`` it ran but the outcome is a failure (a failed
check or verdict, a stale write, an unreachable database); ``2`` the input was wrong (bad
option, unknown flag, invalid definition): fix the command line and run it again.
"""

from __future__ import annotations

from enum import IntEnum

from rheostat.errors import RheostatError

__all__ = ["ExitCode", "exit_code_for"]


class ExitCode(IntEnum):
    """What a script can rely on."""

    OK = 0
    FAILED = 1
    USAGE = 2


_USAGE_ERROR_CODES = frozenset(
    {
        "validation_error",
        "invalid_definition",
        "not_found",
        "already_exists",
        "configuration_error",
    }
)


def exit_code_for(error: RheostatError) -> ExitCode:
    """Return the exit status for ``error``: ``USAGE`` for the user's input, else ``FAILED``."""
    return ExitCode.USAGE if error.code in _USAGE_ERROR_CODES else ExitCode.FAILED
