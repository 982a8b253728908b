"""Rich views of backfills: pure ``format_*`` functions; the commands print."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

__all__ = [
    "format_backfill_plan",
    "format_backfill_status",
    "format_dry_run",
    "format_seconds",
    "format_verify",
]


def format_seconds(seconds: float | None) -> str:
    """``1h02m``, ``3m05s``, ``12.3s``; ``?`` when unknown."""
    if seconds is None:
        return "?"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, second = divmod(int(seconds), 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours}h{minute:02d}m" if hours else f"{minute}m{second:02d}s"


def _pairs(title: str, rows: list[tuple[str, str]]) -> Table:
    table = Table(box=box.SIMPLE, show_header=False, title=title, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    for name, value in rows:
        table.add_row(name, value)
    return table


def format_backfill_plan(plan: Mapping[str, Any]) -> RenderableType:
    """What ``rheostat backfill plan`` shows: the job, its strategy and the SQL of a batch."""
    job = plan["job"]
    source = job["source"]
    rows = [
        ("strategy", str(plan["strategy"])),
        ("source", f"{source['url']} {source.get('table') or source.get('query')}"),
        ("target", f"{job['target']['url']} {job['target']['table']}"),
        ("key", f"{source['key']} -> {job['target']['key']}"),
        ("batch", f"{job['batch']['size']} rows, aiming at {job['batch']['target_seconds']}s"),
        ("transform", str(job.get("transform") or "none")),
        ("checkpoint", f"table {plan['checkpoint_table']} in the target database"),
        ("verify", str(plan["verify_mode"])),
    ]
    statements = Table(box=box.SIMPLE, title="statements", title_justify="left")
    statements.add_column("step", style="bold")
    statements.add_column("SQL")
    for step, value in plan["statements"].items():
        text = "\n".join(value) if isinstance(value, list) else str(value)
        statements.add_row(step, text)
    return Group(_pairs(f"backfill {plan['name']}", rows), statements)


def format_dry_run(report: Mapping[str, Any]) -> RenderableType:
    """Counts and the estimate of ``rheostat backfill dry-run``."""
    rows = [
        ("strategy", str(report["strategy"])),
        ("source rows", f"{report['rows_total']:,}"),
        ("already copied", f"{report['rows_done']:,}"),
        ("to copy", f"{report['rows_remaining']:,}"),
        (
            "sample",
            f"{report['sample_rows']:,} rows in {report['sample_seconds']:.3f}s "
            "(rolled back: nothing written)",
        ),
        ("rate", f"{report['rows_per_second']:,.0f} rows/s"),
        ("estimate", format_seconds(report["estimated_seconds"])),
    ]
    return _pairs(f"dry run of {report['name']}", rows)


def format_backfill_status(status: Mapping[str, Any]) -> RenderableType:
    """A job's status, progress and last verify."""
    total = status["rows_total"]
    percent = status["percent"]
    done = f"{status['rows_done']:,}" + (f" of {total:,}" if total is not None else "")
    if percent is not None:
        done += f" ({percent:.1f}%)"
    verify = status["verify"]
    verified = (
        "never"
        if verify is None
        else ("identical: cut-over allowed" if verify.get("identical") else "DIFFERENCES")
    )
    rows = [
        ("status", str(status["status"])),
        ("rows", done),
        ("rate", f"{status['rows_per_second']:,.0f} rows/s"),
        ("eta", format_seconds(status["eta_seconds"])),
        ("batches", f"{status['batches']:,} (next {status['batch_size']:,} rows)"),
        ("last key", str(status["last_key"])),
        ("worker", str(status["worker"] or "none")),
        ("verify", verified),
    ]
    if status.get("error"):
        rows.append(("error", str(status["error"])))
    return _pairs(f"backfill {status['name']}", rows)


def format_verify(outcome: Mapping[str, Any]) -> RenderableType:
    """The verify report: counts, differing ranges, and whether a cut-over may go ahead."""
    final = outcome.get("after_repair") or outcome
    rows = [
        ("mode", str(outcome["mode"])),
        ("chunks", f"{outcome['chunks']:,}"),
        ("rows", f"source {outcome['source_rows']:,}, target {outcome['target_rows']:,}"),
        ("differing chunks", f"{len(outcome['differences']):,}"),
    ]
    if outcome.get("after_repair") is not None:
        rows.append(("repaired", f"{outcome['repaired']:,} chunks re-copied"))
        rows.append(("after repair", f"{len(final['differences']):,} differing chunks"))
    parts: list[RenderableType] = [_pairs(f"verify {outcome['name']}", rows)]
    if final["differences"]:
        table = Table(box=box.SIMPLE, title="differing key ranges", title_justify="left")
        for column in ("after key", "up to key", "source rows", "target rows"):
            table.add_column(column)
        for difference in final["differences"][:50]:
            table.add_row(
                str(difference["low"] or "start"),
                str(difference["high"] or "end"),
                f"{difference['source_rows']:,}",
                f"{difference['target_rows']:,}",
            )
        parts.append(table)
    verdict = (
        Text("zero differences: cut-over allowed", style="bold green")
        if outcome["identical"]
        else Text("differences found: no cut-over (run verify --repair)", style="bold red")
    )
    parts.append(verdict)
    return Group(*parts)
