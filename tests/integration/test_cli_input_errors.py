"""Bad input on the command line: one red line naming the problem, exit 2, never a traceback."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner, Result

from rheostat.cli import app


@pytest.fixture
def rheostat(store_url: str) -> Any:
    """Run ``rheostat ARGS`` on a migrated database with a ``production`` environment."""
    runner = CliRunner(env={"RHEOSTAT_DATABASE_URL": store_url, "RHEOSTAT_ENV": None})

    def run(*args: str, stdin: bytes | None = None) -> Result:
        return runner.invoke(app, list(args), input=stdin)

    assert run("migrate-db").exit_code == 0
    assert run("env", "create", "production").exit_code == 0
    return run


def _refused(result: Result) -> str:
    """The one error line of a usage error (exit 2)."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("percent", "shown"),
    [
        pytest.param("-5", "got -5", id="negative"),
        pytest.param("-0.5", "got -0.5", id="negative-fraction"),
        pytest.param("nan", "got nan", id="nan"),
        pytest.param("inf", "got inf", id="inf"),
        pytest.param("-inf", "got -inf", id="minus-inf"),
        pytest.param("100.5", "got 100.5", id="above-100"),
    ],
)
def test_a_rollout_percentage_out_of_range_is_refused_with_the_rule(
    rheostat: Any, percent: str, shown: str
) -> None:
    # Given a bool flag
    rheostat("flags", "set", "new-checkout")

    # When it is rolled out to a percentage that is not one
    result = rheostat("flags", "rollout", "new-checkout", percent)

    # Then the rule and the value are named, and nothing changed
    line = _refused(result)
    assert f"rollout percentage must be a number from 0 to 100, {shown}" in line
    assert rheostat("flags", "get", "new-checkout", "--json").stdout.count('"version": 1') == 1


def test_a_negative_percentage_is_refused_wherever_the_options_are(rheostat: Any) -> None:
    # Given a bool flag
    rheostat("flags", "set", "new-checkout")

    # When options come after a negative percentage
    result = rheostat("flags", "rollout", "new-checkout", "-5", "-r", "oops", "--actor", "al")

    # Then the percentage is refused, not taken for an option
    assert "must be a number from 0 to 100, got -5" in _refused(result)
