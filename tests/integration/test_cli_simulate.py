"""``rheostat simulate``: per-run outcomes, a summary, JSON, and clear usage errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rheostat.cli import app

PLAN = """\
plan: search
flag: hybrid_search
environment: production
stages:
  - ramp: {percent: 5, bake: 30m, holdback: true}
  - ramp: {percent: 25, bake: 30m, holdback: true}
  - ramp: {percent: 100}
gates:
  - {metric: http_errors, compare: holdback, worse: higher, mode: rollback}
  - {metric: latency_ms, compare: holdback, worse: higher, mode: pause}
"""


@pytest.fixture
def plan(tmp_path: Path) -> Path:
    path = tmp_path / "plan.yaml"
    path.write_text(PLAN)
    return path


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner(env={"COLUMNS": "200"}).invoke(app, ["simulate", *args])
    return result.exit_code, result.output


def test_an_error_regression_at_the_first_stage_rolls_back_with_its_evidence(plan: Path) -> None:
    code, output = _run(str(plan), "--scenario", "errors", "--runs", "5", "--seed", "1", "--json")

    assert code == 0, output
    report = json.loads(output)
    assert [run["outcome"] for run in report["runs"]] == ["rolled_back"] * 5
    assert {run["highest_percent"] for run in report["runs"]} == {5}
    assert all(run["evidence"] for run in report["runs"])
    assert report["summary"]["stop_rate"] == 1.0
    assert report["summary"]["fired"] == {"http_errors": 1.0}


def test_the_table_shows_each_run_and_the_summary(plan: Path) -> None:
    code, output = _run(str(plan), "--scenario", "healthy", "--runs", "3")

    assert code == 0, output
    assert output.count("completed") >= 3
    assert "summary 3 runs: completed 3" in output


def test_a_latency_model_given_on_the_command_line_is_used(plan: Path) -> None:
    code, output = _run(
        str(plan), "--scenario", "latency", "--at-stage", "2", "--effect", "1.3",
        "--metric", "latency_ms=mean:300:90", "--json",
    )  # fmt: skip

    assert code == 0, output
    run = json.loads(output)["runs"][0]
    assert run["outcome"] == "paused"  # the latency gate's mode
    assert run["decided_stage"] == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scenario", "meteor"], "not a scenario"),
        (["--at-stage", "9"], "no stage 9"),
        (["--metric", "latency_ms=median:3"], "metric model"),
        (["--runs", "0"], "--runs"),
    ],
)
def test_bad_arguments_exit_2_naming_what_is_wrong(
    plan: Path, args: list[str], message: str
) -> None:
    code, output = _run(str(plan), *args)

    assert code == 2
    assert message in output
    assert "Traceback" not in output


def test_a_bad_plan_file_exits_2_naming_the_path(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(PLAN.replace("percent: 25", "percent: 250"))

    code, output = _run(str(bad))

    assert code == 2
    assert "stages[1]" in output
