"""``rheostat simulate``: back-test a release plan's gates before production.

Runs the real ``decide`` and gate judging on synthetic traffic with a fake clock
(``rheostat.simulate``): per run, the outcome, the highest exposure reached and the look at
which the plan decided; with ``--runs`` a summary (false-rollback rate on ``aa``, detection
rate and median stage on regressions, how often each gate fired).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from rheostat.cli.options import JsonOption
from rheostat.cli.output import print_json, show
from rheostat.rollout import load_plan
from rheostat.simulate import (
    SCENARIOS,
    RunResult,
    Scenario,
    ScenarioKind,
    Summary,
    Traffic,
    parse_metric_model,
    simulate,
    summarize,
)

__all__ = ["simulate_plan"]

_OUTCOME_STYLE = {
    "completed": "green",
    "rolled_back": "red",
    "paused": "yellow",
    "failed": "red",
    "unfinished": "dim",
}


def simulate_plan(  # noqa: PLR0913  # one option per knob of the simulation
    file: Annotated[
        Path,
        typer.Argument(metavar="FILE", help="Plan document (YAML or JSON).", show_default=False),
    ],
    scenario: Annotated[
        str,
        typer.Option("--scenario", "-s", help=f"What the change does: {', '.join(SCENARIOS)}."),
    ] = "healthy",
    at_stage: Annotated[
        int, typer.Option(min=1, help="The stage (1-based) from which the scenario applies.")
    ] = 1,
    runs: Annotated[int, typer.Option(min=1, max=100_000, help="Independent runs.")] = 1,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the first run (run i: seed + i).")] = 0,
    effect: Annotated[
        float | None,
        typer.Option(min=1.0, max=1000, help="How much worse (errors 2, latency 1.5, creep 2)."),
    ] = None,
    traffic: Annotated[
        int, typer.Option(min=1, max=10**9, help="Requests per look at 100 % exposure.")
    ] = 20_000,
    interval: Annotated[
        float, typer.Option(min=1, max=86400, help="Seconds between looks (one window each).")
    ] = 60.0,
    metric: Annotated[
        list[str] | None,
        typer.Option(
            help="A metric's model: NAME=proportion:RATE or NAME=mean:MEAN:SD "
            "(default: guessed from the name; repeat for several).",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Back-test FILE's gates on synthetic traffic: would they catch a regression, and how
    often do they cry wolf?"""
    plan = load_plan(file)
    if scenario not in SCENARIOS:
        raise typer.BadParameter(
            f"{scenario!r} is not a scenario; choose one of {', '.join(SCENARIOS)}",
            param_hint="--scenario",
        )
    if at_stage > len(plan.stages):
        raise typer.BadParameter(
            f"the plan has {len(plan.stages)} stages, there is no stage {at_stage}",
            param_hint="--at-stage",
        )
    models = {model.name: model for model in map(parse_metric_model, metric or [])}
    chosen = Scenario(kind=ScenarioKind(scenario), at_stage=at_stage - 1, effect=effect)
    results = simulate(
        plan,
        chosen,
        runs=runs,
        seed=seed,
        traffic=Traffic(per_look=traffic, interval=timedelta(seconds=interval)),
        models=models,
    )
    summary = summarize(scenario, results)
    if as_json:
        print_json({"runs": [r.to_dict() for r in results], "summary": summary.to_dict()})
    else:
        show(_format(results, summary))


def _format(results: list[RunResult], summary: Summary) -> RenderableType:
    table = Table(box=box.SIMPLE, title=f"scenario {summary.scenario}", title_justify="left")
    for column in ("run", "outcome", "highest %", "decided at look", "stage", "why"):
        table.add_column(column)
    for result in results:
        table.add_row(
            str(result.run),
            Text(result.outcome, style=_OUTCOME_STYLE.get(result.outcome, "")),
            f"{result.highest_percent:g}",
            "-" if result.decided_look is None else str(result.decided_look),
            "-" if result.decided_stage is None else str(result.decided_stage),
            (result.message or "")[:80],
        )
    return Group(table, _format_summary(summary)) if summary.runs > 1 else table


def _format_summary(summary: Summary) -> RenderableType:
    outcomes = ", ".join(f"{name} {count}" for name, count in sorted(summary.outcomes.items()))
    lines = [
        Text.assemble(("summary ", "bold"), f"{summary.runs} runs: {outcomes}"),
        Text(
            f"rolled back {summary.rollback_rate:.1%}, stopped (rolled back, paused or failed) "
            f"{summary.stop_rate:.1%}"
        ),
    ]
    if summary.median_decided_stage is not None:
        lines.append(
            Text(
                f"when stopped: median stage {summary.median_decided_stage:g}, median look "
                f"{summary.median_decided_look:g}, median highest exposure "
                f"{summary.median_highest_percent:g}%"
            )
        )
    for gate, share in summary.fired.items():
        lines.append(Text(f"gate {gate} fired in {share:.1%} of runs"))
    return Group(*lines)
