"""Rich views of release plans: pure ``format_*`` functions; the commands print."""

from __future__ import annotations

from datetime import timedelta

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from rheostat.rollout import (
    ApprovalStage,
    BackfillStage,
    CallableGate,
    CheckGate,
    CheckStage,
    Gate,
    HoldbackGate,
    HttpGate,
    MonitorStage,
    Plan,
    RampStage,
    Stage,
    ThresholdGate,
    WaitUntilStage,
)
from rheostat.service import PlanEvent, PlanRecord, TickReport

__all__ = ["format_duration", "format_plan", "format_plan_status", "format_tick"]


def format_duration(duration: timedelta) -> str:
    """``1h30m``, ``45s``, ``0s``: the plan document's own short form."""
    seconds = int(duration.total_seconds())
    parts = []
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def format_plan(plan: Plan) -> RenderableType:
    """The plan's stages and gates, as ``rheostat plan validate`` shows them."""
    title = Text.assemble(
        ("plan ", "bold"), (plan.name, "bold cyan"), f": flag {plan.flag} in {plan.environment},",
        f" on failure {plan.on_failure.value}",
    )  # fmt: skip
    stages = Table(box=box.SIMPLE, title="stages", title_justify="left")
    for column in ("#", "stage", "what"):
        stages.add_column(column)
    for index, stage in enumerate(plan.stages, start=1):
        kind, what = _stage(stage)
        stages.add_row(str(index), kind, what)
    gates = Table(box=box.SIMPLE, title="gates", title_justify="left")
    for column in ("gate", "kind", "rule", "mode"):
        gates.add_column(column)
    for gate in plan.gates:
        kind, rule = _gate(gate)
        gates.add_row(gate.name, kind, rule, gate.mode.value)
    return Group(title, stages, gates, Text("valid", style="green"))


def _stage(stage: Stage) -> tuple[str, str]:
    if isinstance(stage, RampStage):
        ring = f" of {', '.join(stage.segments)}" if stage.segments else ""
        extras = [f"bake {format_duration(stage.bake)}"]
        extras += ["holdback"] * stage.holdback + ["approval first"] * stage.approval
        return "ramp", f"{stage.percent:g}%{ring}, " + ", ".join(extras)
    if isinstance(stage, MonitorStage):
        return "monitor", f"for {format_duration(stage.duration)}"
    if isinstance(stage, CheckStage):
        return "check", ", ".join(stage.checks)
    if isinstance(stage, BackfillStage):
        return "backfill", f"{stage.job} (verify: {stage.verify})"
    if isinstance(stage, WaitUntilStage):
        return "wait_until", stage.at.isoformat()
    assert isinstance(stage, ApprovalStage)  # noqa: S101  # the Stage union is exhausted
    return "approval", stage.note or ""


def _gate(gate: Gate) -> tuple[str, str]:
    if isinstance(gate, HoldbackGate):
        return "holdback", f"{gate.metric}: {gate.worse} is worse, tolerance {gate.tolerance:g}"
    if isinstance(gate, ThresholdGate):
        limits = [
            f"{sign} {value:g}{unit}"
            for sign, value, unit in (
                ("<=", gate.max, ""),
                (">=", gate.min, ""),
                ("<=", gate.max_ratio, "x baseline"),
            )
            if value is not None
        ]
        breaker = " (circuit breaker)" if gate.hard else ""
        return "threshold", f"{gate.metric} {' and '.join(limits)}{breaker}"
    if isinstance(gate, CheckGate):
        return "checks", f"{', '.join(gate.checks)} (every {gate.every.total_seconds():g}s)"
    if isinstance(gate, CallableGate):
        return "callable", gate.target
    assert isinstance(gate, HttpGate)  # noqa: S101  # the Gate union is exhausted
    return "http", f"{gate.url} answers {gate.expect_status}"


def format_plan_status(record: PlanRecord, events: list[PlanEvent]) -> RenderableType:
    """A plan's state, exposure and events, as ``rheostat rollout status`` shows them."""
    state = record.state
    total = len(state.plan.stages)
    stage = f"stage {min(state.stage + 1, total)}/{total}"
    exposure = state.exposure
    held = f" + {exposure.holdback_percent:g}% holdback" if exposure.holdback_percent else ""
    head = Text.assemble(
        ("plan ", "bold"), (record.name, "bold cyan"), f" in {record.environment}: ",
        (state.phase.value, _PHASE_STYLE.get(state.phase.value, "")),
        f", {stage}, {exposure.percent:g}%{held}",
    )  # fmt: skip
    table = Table(box=box.SIMPLE, title="events", title_justify="left")
    for column in ("at", "stage", "event", "message", "by"):
        table.add_column(column)
    for event in events:
        table.add_row(
            event.at.strftime("%Y-%m-%d %H:%M:%S"),
            str(event.stage + 1),
            event.type,
            event.message,
            event.actor,
        )
    message = Text(state.message or "", style="yellow")
    return Group(head, message, table)


def format_tick(report: TickReport) -> Text:
    """One line per changed plan in the controller's output."""
    state = report.plan.state
    return Text.assemble(
        (report.plan.name, "bold cyan"), f" ({report.plan.environment}): ",
        (state.phase.value, _PHASE_STYLE.get(state.phase.value, "")),
        f" at {state.exposure.percent:g}%", f"  {state.message}" if state.message else "",
    )  # fmt: skip


_PHASE_STYLE = {
    "completed": "green",
    "rolled_back": "bold red",
    "failed": "bold red",
    "paused": "yellow",
    "awaiting_approval": "yellow",
}
