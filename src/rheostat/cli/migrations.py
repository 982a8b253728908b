"""``rheostat migrate ...``: table migrations with dual write (``migrate-db`` is rheostat's own
schema).

``parity`` measures the row-count delta and checksums of a migration's old and new tables,
per table and per pilot group, judged by seed 003's thresholds, and with ``--record`` stores
the run (alerts, ``/health``, gate metrics); ``status`` shows each migration's newest run;
``flags`` creates the migration's stage flags, all off.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from rheostat import service
from rheostat.cli.exit_codes import ExitCode
from rheostat.cli.options import (
    DEFAULT_ENVIRONMENT,
    ActorOption,
    DatabaseUrlOption,
    EnvOption,
    JsonOption,
    ReasonOption,
    default_actor,
)
from rheostat.cli.output import print_json, show
from rheostat.cli.render_migrations import format_parity, format_parity_runs
from rheostat.cli.session import reading, transaction
from rheostat.migrate import ParityLevel, load_migration
from rheostat.runner.parity import measure_parity
from rheostat.settings import DEFAULT_DATABASE_URL

__all__ = ["app"]

app = typer.Typer(
    help="Table migrations with dual write: parity, status, stage flags.", no_args_is_help=True
)

MigrationArgument = Annotated[
    Path,
    typer.Argument(
        metavar="MIGRATION.yaml", help="Migration file (YAML or JSON).", show_default=False
    ),
]
_FAILING = (ParityLevel.WARNING, ParityLevel.CRITICAL)


@app.command("parity")
def parity(
    migration: MigrationArgument,
    record: Annotated[
        bool,
        typer.Option(
            "--record",
            help="Store the run in rheostat's store: alerts, /health and release-plan gates.",
        ),
    ] = False,
    environment: Annotated[
        str | None,
        typer.Option(
            "--env",
            "-e",
            help="Where --record stores it.",
            show_default="the file's environment, else production",
        ),
    ] = None,
    as_json: JsonOption = False,
    actor: ActorOption = None,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
) -> None:
    """Compare the old and new tables (row counts and checksums, per table and per group);
    exit 1 at warning or critical."""
    document = load_migration(migration, os.environ)
    report = measure_parity(document)
    if record:
        where = environment or document.environment or DEFAULT_ENVIRONMENT
        with transaction(database_url) as uow:
            service.record_parity_run(
                uow, where, report, change=service.Change(actor=default_actor(actor))
            )
    if as_json:
        print_json(report.to_dict())
    else:
        show(format_parity(report.to_dict()))
    if report.level in _FAILING:
        raise typer.Exit(code=int(ExitCode.FAILED))


@app.command("status")
def status(
    environment: Annotated[
        str | None,
        typer.Option("--env", "-e", help="Only this environment.", show_default="all"),
    ] = None,
    as_json: JsonOption = False,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
) -> None:
    """The newest parity run of each migration, from rheostat's store."""
    with reading(database_url) as uow:
        runs = [
            service.parity_run_data(run, groups=False)
            for run in service.latest_parity_runs(uow)
            if environment is None or run.environment == environment
        ]
    if as_json:
        print_json(runs)
    else:
        show(format_parity_runs(runs))


@app.command("flags")
def flags(
    name: Annotated[str, typer.Argument(metavar="MIGRATION", help="The migration's name.")],
    environment: EnvOption = DEFAULT_ENVIRONMENT,
    as_json: JsonOption = False,
    actor: ActorOption = None,
    reason: ReasonOption = None,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
) -> None:
    """Create the migration's stage flags (migrate.NAME.dual_write ... .complete), all off;
    flags that exist are left alone."""
    change = service.Change(actor=default_actor(actor), reason=reason)
    with transaction(database_url) as uow:
        created = service.define_stage_flags(uow, environment, name, change=change)
    if as_json:
        print_json({"environment": environment, "created": created})
    elif created:
        show("\n".join(f"created {key} (off)" for key in created))
    else:
        show(f"the stage flags of {name} exist already in {environment}")
