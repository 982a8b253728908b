"""Pure ``format_*`` functions for experiments: service values in, Rich renderables out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from rheostat.cli.render import format_percent, format_when
from rheostat.experiments.model import Arm, ExperimentStatus
from rheostat.service import ExperimentRecord, ResultsReport

__all__ = [
    "format_experiment",
    "format_experiment_change",
    "format_experiments",
    "format_results",
]

_STATUS_STYLES: Mapping[ExperimentStatus, str] = {
    ExperimentStatus.DRAFT: "yellow",
    ExperimentStatus.RUNNING: "bold green",
    ExperimentStatus.STOPPED: "dim",
}


def format_experiment_change(verb: str, record: ExperimentRecord) -> Text:
    """``ner-models started in production (version 2)``."""
    line = Text()
    line.append(record.key, style="bold")
    line.append(f" {verb} in ")
    line.append(record.environment, style="bold magenta")
    line.append(f" (version {record.version}, ")
    line.append(record.status.value, style=_STATUS_STYLES[record.status])
    line.append(")")
    return line


def format_experiments(records: Sequence[ExperimentRecord], *, title: str) -> Table:
    """Every experiment of an environment: status, arms, coverage, metrics, times."""
    table = Table(title=title, title_justify="left")
    table.add_column("experiment", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("arms")
    table.add_column("coverage", justify="right")
    table.add_column("metrics")
    table.add_column("started (UTC)")
    for record in records:
        experiment = record.experiment
        table.add_row(
            Text(experiment.key, style="bold"),
            Text(record.status.value, style=_STATUS_STYLES[record.status]),
            _arms(experiment.arms),
            format_percent(experiment.coverage_percent),
            ", ".join(spec.name for spec in experiment.metrics) or "-",
            _minute(experiment.started_at),
        )
    if not records:
        table.caption = "no experiments yet: `rheostat experiment create <name>`"
    return table


def format_experiment(record: ExperimentRecord) -> Group:
    """One experiment: its facts, arms and metrics."""
    experiment = record.experiment
    facts = _facts(
        ("environment", record.environment),
        ("status", Text(record.status.value, style=_STATUS_STYLES[record.status])),
        ("description", experiment.description or "-"),
        ("coverage", format_percent(experiment.coverage_percent)),
        ("alpha", f"{experiment.alpha:g}"),
        (
            "duration",
            "-" if experiment.duration_days is None else f"{experiment.duration_days:g} d",
        ),
        ("created", _when(experiment.created_at)),
        ("started", _when(experiment.started_at)),
        ("stopped", _when(experiment.stopped_at)),
        ("version", str(record.version)),
    )
    arms = Table(title="arms", title_justify="left")
    for column in ("arm", "weight", "component"):
        arms.add_column(column)
    for index, arm in enumerate(experiment.arms):
        name = f"{arm.name} (control)" if index == 0 and arm.name != "control" else arm.name
        arms.add_row(name, format_percent(arm.weight_percent), arm.component or "-")
    metrics = Table(title="metrics", title_justify="left")
    for column in ("metric", "kind", "better"):
        metrics.add_column(column)
    for spec in experiment.metrics:
        metrics.add_row(spec.name, spec.kind.value, "higher" if spec.higher_is_better else "lower")
    return Group(Text(experiment.key, style="bold"), facts, arms, metrics)


def format_results(report: ResultsReport) -> Group:
    """Validity, SRM, each arm's means with CIs, and each comparison with its CI and p-value."""
    document = report.document
    level = f"{1 - report.experiment.alpha:.0%}"
    parts: list[RenderableType] = [
        _verdict(document),
        _facts(
            ("at", str(document["at"])),
            ("srm", _srm(document["srm"])),
            ("source", _source(report)),
        ),
        _arms_table(document, level),
        _comparisons_table(document, level),
    ]
    return Group(*parts)


def _verdict(document: Mapping[str, Any]) -> Text:
    line = Text(f"{document['experiment']} in {document['environment']}: ", style="bold")
    if not document["valid"]:
        reasons = ", ".join(str(reason) for reason in document["invalid_reasons"])
        line.append(f"NOT VALID ({reasons})", style="bold red")
    elif document["significant"]:
        line.append("valid, significant difference", style="bold green")
    else:
        line.append("valid, no significant difference", style="yellow")
    return line


def _srm(srm: Mapping[str, Any]) -> Text:
    p_value = "-" if srm["p_value"] is None else f"p = {srm['p_value']:.3g}"
    if srm["mismatch"]:
        return Text(f"MISMATCH ({p_value}): assignment did not follow the weights", style="red")
    note = f" ({srm['reason']})" if srm["reason"] else ""
    return Text(f"ok ({p_value}){note}")


def _source(report: ResultsReport) -> str:
    if not report.replayed:
        return f"computed now, stored as #{report.stored_id}"
    if report.matches_stored is None:
        return "replayed from stored windows (nothing was stored for this moment)"
    verdict = "identical to" if report.matches_stored else "DIFFERENT from"
    return f"replayed from stored windows: {verdict} stored results #{report.stored_id}"


def _arms_table(document: Mapping[str, Any], level: str) -> Table:
    table = Table(title=f"arms (mean, {level} CI, n)", title_justify="left")
    names = sorted({name for arm in document["arms"] for name in arm["metrics"]})
    for column in ("arm", "units", "commits", *names):
        table.add_column(column, justify="right" if column == "units" else "left")
    for arm in document["arms"]:
        cells = [_mean(arm["metrics"].get(name)) for name in names]
        commits = ", ".join(arm["commits"]) or "-"
        table.add_row(arm["name"], f"{arm['units']:,}", commits, *cells)
    return table


def _comparisons_table(document: Mapping[str, Any], level: str) -> Table:
    title = f"treatment vs {document['control']} ({level} CI)"
    table = Table(title=title, title_justify="left")
    for column in ("metric", "arm", "difference", "lift", "p-value", "verdict"):
        table.add_column(column)
    for row in document["comparisons"]:
        absolute, relative = row["absolute"], row["relative"]
        table.add_row(
            row["metric"],
            row["arm"],
            _interval(absolute, percent=False),
            _interval(relative, percent=True) if relative["relative"] else "-",
            "-" if absolute["p_value"] is None else f"{absolute['p_value']:.3g}",
            _comparison_verdict(row),
        )
    if not document["comparisons"]:
        table.caption = "no metric data yet (windows count once their minute is over)"
    return table


def _mean(summary: Mapping[str, Any] | None) -> str:
    if summary is None or summary["mean"] is None:
        return "-"
    if summary["ci_lower"] is None:
        return f"{summary['mean']:.4g} (n={summary['n']:,})"
    return (
        f"{summary['mean']:.4g} [{summary['ci_lower']:.4g}, {summary['ci_upper']:.4g}]"
        f" (n={summary['n']:,})"
    )


def _interval(effect: Mapping[str, Any], *, percent: bool) -> str:
    if effect["estimate"] is None:
        return "-"
    shown = "{:+.2%}" if percent else "{:+.4g}"
    text = shown.format(effect["estimate"])
    if effect["ci_lower"] is None or effect["ci_upper"] is None:
        return text
    return f"{text} [{shown.format(effect['ci_lower'])}, {shown.format(effect['ci_upper'])}]"


def _comparison_verdict(row: Mapping[str, Any]) -> Text:
    absolute = row["absolute"]
    if absolute["significance"] == "inconclusive":
        return Text(f"inconclusive ({absolute['reason']})", style="dim")
    if not row["significant"]:
        return Text("not significant", style="yellow")
    better = (row["improvement"] or 0) > 0
    return Text("better" if better else "worse", style="bold green" if better else "bold red")


def _arms(arms: Sequence[Arm]) -> str:
    """``control 50%, treatment 50%``."""
    return ", ".join(f"{arm.name} {format_percent(arm.weight_percent)}" for arm in arms)


def _minute(moment: datetime | None) -> str:
    return "-" if moment is None else moment.strftime("%Y-%m-%d %H:%M")


def _when(moment: Any) -> str:
    return "-" if moment is None else format_when(moment)


def _facts(*pairs: tuple[str, str | Text]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim")
    grid.add_column()
    for label, value in pairs:
        grid.add_row(label, value)
    return grid
