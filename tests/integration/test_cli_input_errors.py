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


def test_importing_a_file_that_is_not_utf8_names_the_byte_and_offset(
    rheostat: Any, tmp_path: Any
) -> None:
    # Given a Latin-1 document: "é" is the single byte 0xe9
    document = tmp_path / "flags.yaml"
    document.write_bytes("flags:\n  caf\u00e9: {}\n".encode("latin-1"))

    # When it is imported
    result = rheostat("flags", "import", str(document))

    # Then the file, the byte and where it is are named
    assert f"{document} is not UTF-8 text (invalid byte 0xe9 at offset 12)" in _refused(result)


def test_importing_dash_reads_standard_input(rheostat: Any) -> None:
    # Given a document on standard input
    document = b"flags:\n  new-checkout:\n    description: from stdin\n"

    # When "-" is imported
    result = rheostat("flags", "import", "-", "--json", stdin=document)

    # Then the flag it holds is created
    assert result.exit_code == 0, result.output
    assert '"new-checkout"' in result.stdout
    assert "from stdin" in rheostat("flags", "get", "new-checkout", "--json").stdout


def test_importing_non_utf8_standard_input_is_refused(rheostat: Any) -> None:
    # Given / When bytes that are not UTF-8 are imported from standard input
    result = rheostat("flags", "import", "-", stdin=b"flags: {\xff: 1}\n")

    # Then standard input is named as the source
    assert "standard input is not UTF-8 text (invalid byte 0xff at offset 8)" in _refused(result)


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(("get",), id="get"),
        pytest.param(("get", "--version", "1"), id="get-version"),
        pytest.param(("enable",), id="enable"),
        pytest.param(("disable",), id="disable"),
        pytest.param(("kill",), id="kill"),
        pytest.param(("rollout", "5"), id="rollout"),
        pytest.param(("target", "-u", "alice"), id="target"),
        pytest.param(("history",), id="history"),
        pytest.param(("restore", "1"), id="restore"),
        pytest.param(("delete",), id="delete"),
    ],
)
def test_a_mistyped_flag_key_suggests_the_closest_flag(
    rheostat: Any, command: tuple[str, ...]
) -> None:
    # Given flags new-checkout and dark-mode
    rheostat("flags", "set", "new-checkout")
    rheostat("flags", "set", "dark-mode")

    # When a command names new-chekout
    verb, *rest = command
    result = rheostat("flags", verb, "new-chekout", *rest)

    # Then the closest flag is suggested
    line = _refused(result)
    assert line.startswith("error: flag 'new-chekout' ")
    assert line.endswith("; did you mean 'new-checkout'?")


def test_the_suggestion_completes_the_not_found_message(rheostat: Any) -> None:
    # Given a flag new-checkout
    rheostat("flags", "set", "new-checkout")

    # When new-chekout is asked for / Then the whole line reads as the issue asks
    assert _refused(rheostat("flags", "get", "new-chekout")) == (
        "error: flag 'new-chekout' does not exist in environment 'production';"
        " did you mean 'new-checkout'?"
    )


def test_no_suggestion_when_nothing_is_close(rheostat: Any) -> None:
    # Given one flag
    rheostat("flags", "set", "new-checkout")

    # When an unrelated key is asked for / Then the error stands alone
    line = _refused(rheostat("flags", "get", "zzz"))
    assert line == "error: flag 'zzz' does not exist in environment 'production'"


def test_a_mistyped_environment_suggests_the_closest_environment(rheostat: Any) -> None:
    # Given / When production is mistyped / Then it is suggested
    line = _refused(rheostat("flags", "list", "--env", "prodution"))
    assert line == "error: environment 'prodution' does not exist; did you mean 'production'?"
