"""Rich views of ``rheostat demo``: pure ``format_*`` functions; the demo prints them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from rich import box
from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from rheostat.cli.render import format_percent
from rheostat.cli.render_plans import format_duration
from rheostat.rollout import (
    CheckStage,
    HoldbackGate,
    MonitorStage,
    Plan,
    RampStage,
    Stage,
)
from rheostat.service import FlagSummary, Health, PlanEvent, PlanRecord

__all__ = [
    "format_dashboard",
    "format_evidence",
    "format_finished",
    "format_flags",
    "format_health_line",
    "format_plan_event",
    "format_release",
    "format_release_outcomes",
    "format_step",
]

_EVENT_STYLE = {
    "plan.started": "bold",
    "plan.completed": "bold green",
    "plan.rolling_back": "bold red",
    "plan.rolled_back": "bold red",
    "plan.paused": "yellow",
    "plan.failed": "bold red",
    "stage.completed": "green",
}
_OUTCOME_STYLE = {"completed": "bold green", "rolled_back": "bold red"}


def format_step(number: int, title: str) -> Text:
    """A numbered heading of the demo."""
    return Text(f"\n{number}. {title}", style="bold cyan")


def format_flags(
    rows: Sequence[FlagSummary], users_on: Mapping[str, int], *, users: int, title: str
) -> Table:
    """Every flag: its state, its rollout, and how many of ``users`` users it is on for."""
    table = Table(title=title, title_justify="left", box=box.SIMPLE, padding=(0, 1))
    table.add_column("flag", style="bold")
    table.add_column("state")
    table.add_column("rollout", justify="right")
    table.add_column(f"of {users:,} users", justify="right")
    table.add_column("what (seed)")
    for row in rows:
        on = users_on.get(row.key)
        table.add_row(
            row.key,
            str(row.state),
            format_percent(row.rollout_percent),
            "-" if on is None else f"{on:,}",
            row.description,
        )
    return table


def format_health_line(health: Health) -> Text:
    """``GET /health``: the status and the kill switches engaged, in one line."""
    engaged = [
        f"{environment}/{flag}"
        for environment, flags in sorted(health.kill_switches.items())
        for flag, on in sorted(flags.items())
        if on
    ]
    line = Text("   GET /health: ")
    line.append(str(health.status), style="green" if str(health.status) == "healthy" else "red")
    line.append(f", database {health.database}, kill switches engaged: ")
    line.append(", ".join(engaged) or "none", style="bold red" if engaged else "")
    return line


def format_release(plan: Plan, story: str) -> Group:
    """A plan about to start: its stages and gates in a line each, and what will happen."""
    stages = ", ".join(_stage(stage) for stage in plan.stages)
    gates = ", ".join(
        f"{gate.name} vs holdback ({gate.mode.value})"
        if isinstance(gate, HoldbackGate)
        else f"{gate.name} ({gate.mode.value})"
        for gate in plan.gates
    )
    return Group(
        Text.assemble(
            ("   plan ", "bold"),
            (plan.name, "bold cyan"),
            f" ramps {plan.flag} in {plan.environment}: {story}",
        ),
        Text(f"     stages: {stages}", style="dim"),
        Text(f"     gates: {gates}; on failure: {plan.on_failure.value}", style="dim"),
    )


def _stage(stage: Stage) -> str:
    if isinstance(stage, RampStage):
        holdback = " + holdback" if stage.holdback else ""
        bake = f" {format_duration(stage.bake)}" if stage.bake else ""
        return f"{stage.percent:g}%{holdback}{bake}"
    if isinstance(stage, CheckStage):
        return f"check {'+'.join(stage.checks)}"
    if isinstance(stage, MonitorStage):
        return f"monitor {format_duration(stage.duration)}"
    return type(stage).__name__.removesuffix("Stage").lower()


def format_plan_event(event: PlanEvent, *, elapsed: timedelta) -> Text:
    """One event as it happens: simulated time since the plans started, plan, what."""
    return Text.assemble(
        (f"   +{_clock(elapsed)} ", "dim"),
        (f"{event.plan:<14}", "cyan"),
        (f"{event.type:<18}", _EVENT_STYLE.get(event.type, "")),
        event.message,
    )


def _clock(elapsed: timedelta) -> str:
    minutes = int(elapsed.total_seconds()) // 60
    return f"{minutes // 60}h{minutes % 60:02d}m"


def format_evidence(evidence: Mapping[str, Any]) -> Table:
    """The evidence a gate failed on: the rule, both arms, the effect and its interval."""
    table = Table(box=box.SIMPLE, show_header=False, padding=(0, 1))
    table.add_column(style="dim", justify="right")
    table.add_column()
    rows: list[tuple[str, str | Text]] = [
        ("gate", f"{evidence.get('gate')} ({evidence.get('mode')})"),
        ("verdict", Text(str(evidence.get("verdict")), style="bold red")),
        ("rule", str(evidence.get("rule", ""))),
        ("treatment", _arm(evidence, "treatment")),
        ("holdback", _arm(evidence, "holdback")),
        ("difference", _number(evidence.get("estimate"))),
        ("interval", _interval(evidence)),
        ("tolerance", _number(evidence.get("tolerance"))),
    ]
    for label, value in rows:
        table.add_row(label, value)
    return table


def _arm(evidence: Mapping[str, Any], arm: str) -> str:
    mean, n = evidence.get(f"{arm}_mean"), evidence.get(f"{arm}_n")
    count = f"{n:,}" if isinstance(n, int) else "?"
    return f"{_number(mean)} over n = {count}"


def _interval(evidence: Mapping[str, Any]) -> str:
    alpha = evidence.get("alpha")
    level = f"{100 * (1 - alpha):g}% " if isinstance(alpha, float) else ""
    low, high = evidence.get("ci_lower"), evidence.get("ci_upper")
    low_text = "-inf" if low is None else _number(low)
    high_text = "+inf" if high is None else _number(high)
    return f"[{low_text}, {high_text}] ({level}always-valid, so every look counts)"


def _number(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, int | float) else str(value)


def format_release_outcomes(records: Sequence[PlanRecord], *, began: datetime) -> Table:
    """Where each plan ended, and the simulated time it took."""
    table = Table(box=box.SIMPLE, title="release plans", title_justify="left")
    for column in ("plan", "flag", "outcome", "exposure", "simulated time"):
        table.add_column(column)
    for record in records:
        state = record.state
        phase = state.phase.value
        table.add_row(
            record.name,
            state.plan.flag,
            Text(phase, style=_OUTCOME_STYLE.get(phase, "yellow")),
            f"{state.exposure.percent:g}%",
            _clock(record.updated_at - began),
        )
    return table


def format_dashboard(*, url: str, admin_key: str, sdk_key: str, database: str) -> Panel:
    """Where to look now, and the keys to get in."""
    lines = Table.grid(padding=(0, 2))
    lines.add_column(style="dim")
    lines.add_column()
    lines.add_row("dashboard", Text(f"{url}/", style="bold"))
    lines.add_row("API docs", f"{url}/docs")
    lines.add_row("admin key", Text(admin_key, style="bold yellow"))
    lines.add_row("sdk key", sdk_key)
    lines.add_row("database", database)
    lines.add_row("", Text("Ctrl-C stops the server", style="dim"))
    return Panel(lines, title="rheostat is running", title_align="left", expand=False)


def format_finished(*, database: str, admin_key: str, seconds: float) -> Text:
    """The closing lines of a run without the server: where its data is, how to look."""
    return Text(
        f"\nDemo finished in {seconds:.0f} s. Everything it did is in {database}; to look:\n"
        f"  rheostat serve --database-url sqlite:///{database}   (admin key {admin_key})",
        style="bold green",
    )
