"""``rheostat plan validate FILE [--json]``: exit 0 with stages and gates, 2 naming the error."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from rheostat.cli import app

PLAN = """\
plan: hybrid-search
flag: hybrid_search
environment: production
stages:
  - check: [database_schema, backups]
  - backfill: {job: documents-to-es, verify: checksum}
  - ramp: {percent: 1, bake: 30m, holdback: true}
  - ramp: {percent: 50, bake: 12h, approval: required}
  - approval: {note: sign-off}
  - wait_until: "2026-12-08T09:00:00Z"
  - ramp: {percent: 100, segments: [internal]}
  - ramp: {percent: 100}
  - monitor: {for: 24h}
gates:
  - {metric: http_error_rate, compare: holdback, worse: higher, tolerance: 0.001, mode: rollback}
  - {metric: latency_p95_ms, max: 2x_baseline, mode: pause}
  - {metric: error_rate, max: 0.01, hard: true}
  - {name: smoke, http: "https://example.test/health", expect_status: 200, timeout: 5s}
  - {name: model-ok, callable: "mypkg.checks:validate", mode: rollback}
  - {name: preflight, checks: [schema, backups]}
on_failure: {rollback: gradual}
"""


def _run(tmp_path: Path, text: str | bytes, *extra: str) -> tuple[int, str]:
    path = tmp_path / "plan.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    result = CliRunner(env={"COLUMNS": "200"}).invoke(app, ["plan", "validate", str(path), *extra])
    return result.exit_code, result.output


def test_a_valid_plan_shows_every_stage_and_gate(tmp_path: Path) -> None:
    code, output = _run(tmp_path, PLAN)
    assert code == 0, output
    for expected in (
        "1%, bake 30m, holdback", "50%, bake 12h, approval first", "100% of internal",
        "documents-to-es (verify: checksum)", "sign-off", "for 1d",
        "latency_p95_ms <= 2x baseline", "error_rate <= 0.01 (circuit breaker)",
        "answers 200", "mypkg.checks:validate", "valid",
    ):  # fmt: skip
        assert expected in output, expected


def test_json_prints_the_canonical_document(tmp_path: Path) -> None:
    code, output = _run(tmp_path, PLAN, "--json")
    document = json.loads(output)
    assert code == 0
    assert document["plan"] == "hybrid-search"
    assert len(document["stages"]) == 9


def test_a_mistake_is_one_line_naming_the_path_and_exit_2(tmp_path: Path) -> None:
    code, output = _run(tmp_path, PLAN.replace("percent: 1,", 'percent: "1",'))
    assert code == 2
    assert "stages[2].ramp.percent" in output
    assert "Traceback" not in output


def test_a_file_that_is_not_utf8_is_refused_naming_the_byte(tmp_path: Path) -> None:
    code, output = _run(tmp_path, PLAN.encode() + b"# caf\xe9\n")
    assert code == 2
    assert "0xe9" in output
