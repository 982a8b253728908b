"""Rich views of table migrations: pure ``format_*`` functions; the commands print."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

__all__ = ["format_parity", "format_parity_runs"]

_STYLE = {"ok": "green", "drift": "yellow", "warning": "bold yellow", "critical": "bold red"}
_SHOWN_GROUPS = 50


def format_parity(report: Mapping[str, Any]) -> RenderableType:
    """One parity report: the table, its groups worst first, the level and the action."""
    table = Table(box=box.SIMPLE, title=f"parity {report['migration']}", title_justify="left")
    for column in ("", "old rows", "new rows", "delta", "checksum", "level"):
        table.add_column(column)
    parts = [report["table"], *report["groups"][:_SHOWN_GROUPS]]
    for part in parts:
        name = "table" if part["group"] is None else f"{report['group_by']}={part['group']}"
        table.add_row(
            name,
            f"{part['old_rows']:,}",
            f"{part['new_rows']:,}",
            f"{part['row_delta']:+,}",
            "match" if part["checksum_matches"] else "differs",
            Text(part["level"], style=_STYLE.get(part["level"], "")),
        )
    hidden = len(report["groups"]) - _SHOWN_GROUPS
    level = report["level"]
    verdict = Text(
        f"{level}: {report['action'].replace('_', ' ')}"
        + (f" ({', '.join(report['critical_groups'][:10])})" if report["critical_groups"] else ""),
        style=_STYLE.get(level, ""),
    )
    lines: list[RenderableType] = [table]
    if hidden > 0:
        lines.append(Text(f"... and {hidden:,} more groups (--json shows them)"))
    lines.append(verdict)
    return Group(*lines)


def format_parity_runs(runs: Sequence[Mapping[str, Any]]) -> RenderableType:
    """The newest parity run of each migration."""
    if not runs:
        return Text("no parity runs yet: `rheostat migrate parity MIGRATION.yaml --record`")
    table = Table(box=box.SIMPLE, title="migrations", title_justify="left")
    for column in ("environment", "migration", "level", "action", "row delta", "worst group",
                   "measured at"):  # fmt: skip
        table.add_column(column)
    for run in runs:
        table.add_row(
            run["environment"],
            run["migration"],
            Text(run["level"], style=_STYLE.get(run["level"], "")),
            run["action"].replace("_", " "),
            f"{run['row_delta']:+,}",
            f"{run['worst_group_delta']:,}",
            run["measured_at"],
        )
    return table
