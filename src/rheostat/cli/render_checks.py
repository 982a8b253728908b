"""Rich views of check runs: pure ``format_*`` functions; the command prints."""

from __future__ import annotations

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from rheostat.checks import CheckRun, Status

__all__ = ["format_check_run"]

_STYLES = {Status.PASS: "green", Status.WARN: "yellow", Status.FAIL: "bold red"}


def format_check_run(run: CheckRun, *, stored: bool) -> RenderableType:
    """A table of every check (status, name, kind, message, seconds) and a summary line."""
    table = Table(box=box.SIMPLE_HEAD, title=f"suite {run.suite}", title_justify="left")
    table.add_column("status")
    table.add_column("check")
    table.add_column("kind")
    table.add_column("message", overflow="fold")
    table.add_column("seconds", justify="right")
    for result in run.results:
        table.add_row(
            Text(result.status.value, style=_STYLES[result.status]),
            Text(result.name),  # Text, so a "[...]" in a message is shown, never read as markup
            Text(result.kind),
            Text(result.message),
            f"{result.duration_seconds:.2f}",
        )
    summary = run.summary
    line = Text.assemble(
        (f"{summary.passed} passed", "green"),
        ", ",
        (f"{summary.warned} warned", "yellow" if summary.warned else ""),
        ", ",
        (f"{summary.failed} failed", "bold red" if summary.failed else ""),
        f" (check run {run.id})" if stored else " (not stored)",
    )
    return Group(table, line)
