"""Release plans: where each is, its stage timeline, gate verdicts with their evidence,
treatment against holdback over time, and the operator's commands. The pages refresh
themselves (htmx polling) while a plan can still move."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from markupsafe import Markup
from starlette.responses import HTMLResponse, Response

from rheostat import service
from rheostat.errors import RheostatError, ValidationError
from rheostat.rollout import HoldbackGate, ThresholdGate
from rheostat.rollout.looks import HOLDBACK, REST, TREATMENT, observations
from rheostat.rollout.state import Command, CommandKind, Phase
from rheostat.rollout.verdicts import GateVerdict, Verdict
from rheostat.service import PlanRecord, UnitOfWork
from rheostat.web.charts import line_chart
from rheostat.web.deps import Form, SignedIn, Viewer, now_of, store_of
from rheostat.web.plan_views import (
    BUCKETS,
    available_commands,
    bucket_edges,
    event_rows,
    gate_rows,
    is_approved,
    is_live,
    metric_series,
    stage_rows,
)
from rheostat.web.rendering import render
from rheostat.web.routes.common import page, problem, read_environment_rows
from rheostat.web.routes.forms import submit

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
EnvironmentParam = Annotated[str | None, Query(max_length=63)]
_NEEDS_REASON = frozenset({CommandKind.ROLLBACK, CommandKind.ABORT})


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanRow:
    """One plan in the list."""

    environment: str
    name: str
    flag: str
    phase: str
    stage: str
    percent: float
    holdback_percent: float
    message: str


@router.get("/plans")
def plans_page(
    request: Request, viewer: SignedIn, environment: EnvironmentParam = None
) -> HTMLResponse:
    """The environment's plans; the table refreshes itself."""
    environments, chosen, rows = read_environment_rows(request, environment, _plan_rows)
    return page(
        "plans.html",
        viewer=viewer,
        active="/plans",
        title="Release plans",
        request=request,
        environments=environments,
        environment=chosen,
        rows=rows,
    )


@router.get("/plans/rows")
def plans_fragment(
    request: Request, viewer: SignedIn, environment: EnvironmentParam = None
) -> HTMLResponse:
    """The plan table's rows (polled)."""
    _, chosen, rows = read_environment_rows(request, environment, _plan_rows)
    return render("_plan_rows.html", {"rows": rows, "viewer": viewer, "environment": chosen})


@router.get("/plans/{environment}/{name}")
def plan_page(request: Request, viewer: SignedIn, environment: str, name: str) -> HTMLResponse:
    """One plan: timeline, gates, chart, events and command buttons."""
    try:
        details = _details(request, environment, name)
    except RheostatError as error:
        return problem(error, viewer=viewer, request=request, back="/plans")
    return page(
        "plan.html",
        viewer=viewer,
        active="/plans",
        title=f"Plan {name}",
        request=request,
        environment=environment,
        **details,
    )


@router.get("/plans/{environment}/{name}/live")
def plan_fragment(request: Request, viewer: SignedIn, environment: str, name: str) -> HTMLResponse:
    """The part of the plan page that moves (polled while the plan is live)."""
    try:
        details = _details(request, environment, name)
    except RheostatError as error:
        return problem(error, viewer=viewer, request=request, back="/plans")
    return render("_plan_live.html", {"viewer": viewer, "environment": environment, **details})


@router.post("/plans/{environment}/{name}/command")
async def command(request: Request, viewer: SignedIn, environment: str, name: str) -> Response:
    """Pause, resume, approve, roll back (or start) the plan now, with the reason given."""

    def apply(uow: UnitOfWork, order: Command) -> str:
        report = service.command_plan(uow, environment, name, order)
        phase = report.plan.state.phase.value.replace("_", " ")
        return f"{order.kind.value.capitalize()} sent: the plan is {phase}"

    return await submit(
        request,
        viewer,
        prepare=lambda form: _command_of(form, viewer),
        apply=apply,
        back=f"/plans/{environment}/{name}",
    )


def _command_of(form: Form, viewer: Viewer) -> Command:
    kind = _command_kind(form.get("command", ""))
    reason = form.get("reason", "").strip() or None
    if kind in _NEEDS_REASON and reason is None:
        raise ValidationError(f"say why you {kind.value}: the reason is audited")
    return Command(kind=kind, actor=viewer.actor, reason=reason)


def _command_kind(text: str) -> CommandKind:
    try:
        return CommandKind(text)
    except ValueError:
        raise ValidationError(f"unknown command {text!r}") from None


def _plan_rows(uow: UnitOfWork, environment: str) -> list[PlanRow]:
    rows = []
    for record in service.list_plans(uow, environment):
        state = record.state
        total = len(state.plan.stages)
        rows.append(
            PlanRow(
                environment=environment,
                name=record.name,
                flag=state.plan.flag,
                phase=state.phase.value,
                stage=f"{min(state.stage + 1, total)} / {total}",
                percent=state.exposure.percent,
                holdback_percent=state.exposure.holdback_percent,
                message=state.message or "",
            )
        )
    return rows


def _details(request: Request, environment: str, name: str) -> dict[str, Any]:
    now = now_of(request)
    with store_of(request).reading() as uow:
        record = service.get_plan(uow, environment, name)
        events = service.plan_events(uow, environment, name)
        started = events[0].at if events else record.created_at
        end = now if is_live(record.state.phase) or not events else events[-1].at
        charts = _charts(uow, record, started, end)
        gates = _gate_looks(uow, record, now)
    state = record.state
    return {
        "plan": record,
        "state": state,
        "phase": state.phase.value,
        "live": is_live(state.phase),
        "stages": stage_rows(state),
        "events": event_rows(events),
        "gates": gate_rows(gates),
        "commands": available_commands(state),
        "approved": is_approved(state),
        "charts": charts,
    }


def _charts(
    uow: UnitOfWork, record: PlanRecord, start: datetime, end: datetime
) -> list[tuple[str, Markup]]:
    """One chart (title, svg) per metric gate: treatment against holdback (or everyone else)."""
    plan = record.state.plan
    metrics: dict[str, tuple[str, str]] = {}
    for gate in plan.gates:
        if isinstance(gate, HoldbackGate):
            metrics.setdefault(gate.metric, (TREATMENT, HOLDBACK))
        elif isinstance(gate, ThresholdGate) and gate.source == "builtin":
            metrics.setdefault(gate.metric, (TREATMENT, REST))
    edges = bucket_edges(start, end)
    charts = []
    for metric, variants in metrics.items():
        buckets = [
            (until, _totals(uow, record, metric, since, until)) for since, until in pairwise(edges)
        ]
        series = metric_series(start, buckets, variants=variants)
        title = f"{metric}: treatment vs {series[1].name}, rate in each {BUCKETS}th of the plan"
        charts.append((title, line_chart(series, title=title)))
    return charts


def _totals(
    uow: UnitOfWork, record: PlanRecord, metric: str, since: datetime, until: datetime
) -> Mapping[Any, Any]:
    plan = record.state.plan
    return service.metric_totals(uow, plan.environment, plan.flag, metric, since=since, until=until)


def _gate_looks(uow: UnitOfWork, record: PlanRecord, now: datetime) -> list[GateVerdict]:
    """The metric gates as the controller would judge them now (a bake only); the other
    gates (probes, callables, check suites) are judged by the controller alone."""
    state = record.state
    if state.phase is not Phase.BAKING:
        return []
    plan = state.plan
    judged_here = {
        gate.name
        for gate in plan.gates
        if isinstance(gate, HoldbackGate)
        or (isinstance(gate, ThresholdGate) and gate.source == "builtin")
    }

    def totals_of(metric: str) -> Mapping[Any, Any]:
        since = state.stage_started_at or now
        return service.metric_totals(
            uow, plan.environment, plan.flag, metric, since=since, until=now
        )

    def not_here(gate: Any) -> GateVerdict:
        return GateVerdict(gate=gate.name, verdict=Verdict.NO_DATA)

    looked = observations(state, now, totals_of=totals_of, judge=not_here)
    return [verdict for verdict in looked.verdicts if verdict.gate in judged_here]
