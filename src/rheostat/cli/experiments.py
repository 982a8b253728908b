"""``rheostat experiment ...``: create, start, read and stop A/B experiments.

Traffic (exposures, metric events, conversions) is recorded by applications through the HTTP
API or ``ABTestManager``; the command line manages experiments and reads their results.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from rheostat import service
from rheostat.cli.options import (
    DEFAULT_ENVIRONMENT,
    ActorOption,
    DatabaseUrlOption,
    EnvOption,
    ExpectedVersionOption,
    JsonOption,
    ReasonOption,
    default_actor,
)
from rheostat.cli.output import print_json, show
from rheostat.cli.render_experiments import (
    format_experiment,
    format_experiment_change,
    format_experiments,
    format_results,
)
from rheostat.cli.session import reading, transaction
from rheostat.errors import ValidationError
from rheostat.experiments.model import Arm, Experiment, ExperimentStatus, MetricKind, MetricSpec
from rheostat.service import ExperimentChanges, ExperimentRecord, ResultsReport
from rheostat.settings import DEFAULT_DATABASE_URL

__all__ = ["app", "parse_arm", "parse_at", "parse_metric"]

app = typer.Typer(
    help="A/B experiments: create, start, results (replayable with --at), stop.",
    no_args_is_help=True,
)

NameArgument = Annotated[
    str, typer.Argument(metavar="NAME", help="Experiment key.", show_default=False)
]
ArmOption = Annotated[
    list[str] | None,
    typer.Option(
        "--arm",
        help="NAME=WEIGHT, once per arm, control first (default control=50, treatment=50).",
    ),
]
_DEFAULT_ARMS = ["control=50", "treatment=50"]


def _report(verb: str, record: ExperimentRecord, *, as_json: bool) -> None:
    if as_json:
        print_json(record)
    else:
        show(format_experiment_change(verb, record))


@app.command("create")
def create_experiment(  # noqa: PLR0913  # one parameter per command-line option
    name: NameArgument,
    arm: ArmOption = None,
    metric: Annotated[
        list[str] | None,
        typer.Option(
            help="NAME[:mean|proportion][:higher|lower], once per metric, e.g. latency:lower."
        ),
    ] = None,
    coverage: Annotated[float, typer.Option(help="Percent of all units in the experiment.")] = 100,
    alpha: Annotated[float, typer.Option(help="Significance level.")] = 0.05,
    duration_days: Annotated[float | None, typer.Option(help="Planned length in days.")] = None,
    description: Annotated[str, typer.Option(help="What it compares.")] = "",
    env: EnvOption = DEFAULT_ENVIRONMENT,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
    actor: ActorOption = None,
    reason: ReasonOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a draft experiment; `start` it to assign units and record traffic."""
    experiment = Experiment(
        key=name,
        arms=tuple(parse_arm(text) for text in arm or _DEFAULT_ARMS),
        metrics=tuple(parse_metric(text) for text in metric or ()),
        coverage_percent=coverage,
        alpha=alpha,
        duration_days=duration_days,
        description=description,
    )
    with transaction(database_url) as uow:
        record = service.create_experiment(
            uow, env, experiment, change=service.Change(actor=default_actor(actor), reason=reason)
        )
    _report("created", record, as_json=as_json)


@app.command("list")
def list_experiments(
    status: Annotated[ExperimentStatus | None, typer.Option(help="Only these.")] = None,
    env: EnvOption = DEFAULT_ENVIRONMENT,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
    as_json: JsonOption = False,
) -> None:
    """Every experiment of the environment with its status, arms and coverage."""
    with reading(database_url) as uow:
        records = service.list_experiments(uow, env, status=status)
    if as_json:
        print_json(records)
    else:
        show(format_experiments(records, title=f"experiments in {env}"))


@app.command("get")
def get_experiment(
    name: NameArgument,
    env: EnvOption = DEFAULT_ENVIRONMENT,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
    as_json: JsonOption = False,
) -> None:
    """One experiment: status, arms, metrics, times."""
    with reading(database_url) as uow:
        record = service.get_experiment(uow, env, name)
    if as_json:
        print_json(record)
    else:
        show(format_experiment(record))


@app.command("update")
def update_experiment(  # noqa: PLR0913  # one parameter per command-line option
    name: NameArgument,
    coverage: Annotated[
        float | None, typer.Option(help="Percent of all units; never moves assigned units.")
    ] = None,
    arm: ArmOption = None,
    description: Annotated[str | None, typer.Option(help="Set the description.")] = None,
    expected_version: ExpectedVersionOption = None,
    env: EnvOption = DEFAULT_ENVIRONMENT,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
    actor: ActorOption = None,
    reason: ReasonOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change coverage or description (any time) or the arms (drafts only)."""
    changes = ExperimentChanges(
        coverage_percent=coverage,
        arms=None if not arm else tuple(parse_arm(text) for text in arm),
        description=description,
    )
    with transaction(database_url) as uow:
        record = service.update_experiment(
            uow,
            env,
            name,
            changes,
            change=service.Change(
                actor=default_actor(actor),
                reason=reason,
                expected_version=expected_version,
            ),
        )
    _report("updated", record, as_json=as_json)


@app.command("start")
def start_experiment(  # noqa: PLR0913  # one parameter per command-line option
    name: NameArgument,
    expected_version: ExpectedVersionOption = None,
    env: EnvOption = DEFAULT_ENVIRONMENT,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
    actor: ActorOption = None,
    reason: ReasonOption = None,
    as_json: JsonOption = False,
) -> None:
    """Start assigning units and recording traffic."""
    with transaction(database_url) as uow:
        record = service.start_experiment(
            uow,
            env,
            name,
            change=service.Change(
                actor=default_actor(actor),
                reason=reason,
                expected_version=expected_version,
            ),
        )
    _report("started", record, as_json=as_json)


@app.command("stop")
def stop_experiment(  # noqa: PLR0913  # one parameter per command-line option
    name: NameArgument,
    expected_version: ExpectedVersionOption = None,
    env: EnvOption = DEFAULT_ENVIRONMENT,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
    actor: ActorOption = None,
    reason: ReasonOption = None,
    as_json: JsonOption = False,
) -> None:
    """Stop for good: nothing more is recorded; results stay readable."""
    with transaction(database_url) as uow:
        record = service.stop_experiment(
            uow,
            env,
            name,
            change=service.Change(
                actor=default_actor(actor),
                reason=reason,
                expected_version=expected_version,
            ),
        )
    _report("stopped", record, as_json=as_json)


@app.command("results")
def experiment_results(
    name: NameArgument,
    at: Annotated[
        str | None,
        typer.Option(
            help="Replay the results as they were then (ISO 8601; UTC when no zone is given)."
        ),
    ] = None,
    env: EnvOption = DEFAULT_ENVIRONMENT,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
    as_json: JsonOption = False,
) -> None:
    """Per-arm means with CIs, effects with CIs and p-values, SRM and validity.

    Without --at the results are computed now and stored; with --at they are recomputed from
    the stored windows and compared with what was stored for that moment.
    """
    moment = None if at is None else parse_at(at)
    with transaction(database_url) as uow:
        report = service.experiment_results(uow, env, name, at=moment)
    if as_json:
        print_json(_results_json(report))
    else:
        show(format_results(report))


def _results_json(report: ResultsReport) -> dict[str, object]:
    return {
        "environment": report.environment,
        "experiment": report.experiment.key,
        "at": report.results.at,
        "computed_at": report.computed_at,
        "replayed": report.replayed,
        "stored_id": report.stored_id,
        "matches_stored": report.matches_stored,
        "results": report.document,
    }


def parse_arm(text: str) -> Arm:
    """Parse ``NAME=WEIGHT`` (weight in percent).

    Raises:
        ValidationError: naming the option and the text.
    """
    name, separator, weight = text.partition("=")
    try:
        if not separator or not name:
            raise ValueError(text)
        return Arm(name=name.strip(), weight_percent=float(weight))
    except ValueError:
        raise ValidationError(
            f"--arm {text!r} must be NAME=WEIGHT, e.g. treatment=50", details={"field": "arm"}
        ) from None


def parse_metric(text: str) -> MetricSpec:
    """Parse ``NAME[:mean|proportion][:higher|lower]``.

    Raises:
        ValidationError: an unknown word, naming the option and the text.
    """
    name, *words = text.split(":")
    kind, higher_is_better = MetricKind.MEAN, True
    for word in (word.strip().lower() for word in words):
        if word in ("mean", "proportion"):
            kind = MetricKind(word)
        elif word in ("higher", "lower"):
            higher_is_better = word == "higher"
        else:
            raise ValidationError(
                f"--metric {text!r}: unknown {word!r}; use NAME[:mean|proportion][:higher|lower]",
                details={"field": "metric"},
            )
    return MetricSpec(name=name.strip(), kind=kind, higher_is_better=higher_is_better)


def parse_at(text: str) -> datetime:
    """Parse an ISO 8601 time; one without a zone is UTC.

    Raises:
        ValidationError: not a time.
    """
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(
            f"--at {text!r} is not an ISO 8601 time, e.g. 2026-01-15T12:00:00Z",
            details={"field": "at"},
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
