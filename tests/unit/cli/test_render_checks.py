"""The Rich view of a check run."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Console

from rheostat.checks import CheckResult, CheckRun, Status
from rheostat.cli.render_checks import format_check_run

AT = datetime(2026, 1, 1, tzinfo=UTC)


def _text(run: CheckRun, *, stored: bool) -> str:
    console = Console(width=160, record=True, color_system=None)
    console.print(format_check_run(run, stored=stored))
    return console.export_text()


def test_every_result_and_the_summary_are_shown_literally() -> None:
    run = CheckRun(
        id=7,
        suite="pre-rollout",
        results=(
            CheckResult(name="db", kind="schema", status=Status.PASS, message="all there"),
            CheckResult(name="x", kind="python", status=Status.FAIL, message="crashed: [bold]no"),
            CheckResult(name="es", kind="tcp", status=Status.WARN, message="refused"),
        ),
        source="cli",
        actor="alice",
        started_at=AT,
        finished_at=AT,
    )
    text = _text(run, stored=True)
    assert "suite pre-rollout" in text
    assert "crashed: [bold]no" in text
    assert "1 passed, 1 warned, 1 failed (check run 7)" in text
    assert "(not stored)" in _text(run, stored=False)
