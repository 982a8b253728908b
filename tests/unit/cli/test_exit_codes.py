"""Which error ends the command with which status."""

from __future__ import annotations

import pytest

from rheostat import errors
from rheostat.cli.exit_codes import ExitCode, exit_code_for


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (errors.NotFound("no flag"), ExitCode.USAGE),
        (errors.ValidationError("bad percent"), ExitCode.USAGE),
        (errors.InvalidDefinition("flags.x.default", "missing"), ExitCode.USAGE),
        (errors.AlreadyExists("exists"), ExitCode.USAGE),
        (errors.ConfigurationError("bad url"), ExitCode.USAGE),
        (errors.Conflict("stale"), ExitCode.FAILED),
        (errors.StorageError("down"), ExitCode.FAILED),
        (errors.PermissionDenied("scope"), ExitCode.FAILED),
        (errors.Unauthenticated("no key"), ExitCode.FAILED),
    ],
)
def test_input_mistakes_are_usage_errors_and_the_rest_failures(
    error: errors.RheostatError, code: ExitCode
) -> None:
    # Given an error / When its exit status is chosen / Then it is the documented one
    assert exit_code_for(error) is code


def test_the_statuses_are_the_documented_numbers() -> None:
    # Given / When / Then scripts can rely on 0, 1 and 2
    assert (ExitCode.OK, ExitCode.FAILED, ExitCode.USAGE) == (0, 1, 2)
