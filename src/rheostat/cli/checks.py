"""``rheostat check SUITE.yaml``: run a pre-flight suite (seed 000's ``make rollout-check``).

Exit 0 when no check failed (warnings are shown), 1 when any failed (a crash and a timeout
included), 2 when the suite file is missing or invalid (the message names the path in it).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from rheostat import service
from rheostat.checks import CheckRun, exit_code
from rheostat.cli.exit_codes import ExitCode
from rheostat.cli.options import DatabaseUrlOption, JsonOption, default_actor
from rheostat.cli.output import print_json, show
from rheostat.cli.render_checks import format_check_run
from rheostat.cli.session import connect
from rheostat.errors import StorageError
from rheostat.settings import DEFAULT_DATABASE_URL

__all__ = ["check"]


def check(
    suite_file: Annotated[
        Path, typer.Argument(help="The suite file (YAML); ${VAR} comes from the environment.")
    ],
    json_output: JsonOption = False,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
    store_run: Annotated[
        bool, typer.Option("--store/--no-store", help="Store the run as a check run.")
    ] = True,
) -> None:
    """Run every check of a suite at once; exit 1 if any failed, 0 otherwise."""
    suite = service.load_suite_file(suite_file, environ=os.environ)
    with connect(database_url) as store:
        origin = service.RunOrigin(source="cli", actor=default_actor(None))
        run = service.run_checks(store, suite, origin=origin, record=False)
        stored = _store(store, run) if store_run else None
    shown = stored or run
    if json_output:
        print_json(shown.to_document())
    else:
        show(format_check_run(shown, stored=stored is not None))
    raise typer.Exit(code=int(ExitCode.FAILED if exit_code(run.results) else ExitCode.OK))


def _store(store: service.SqlStore, run: CheckRun) -> CheckRun | None:
    try:
        with store.unit_of_work() as uow:
            return service.record_check_run(uow, run)
    except StorageError as error:
        warning = Text(
            f"warning: the run was not stored ({error.message}); --no-store skips storing",
            style="yellow",
        )
        Console(stderr=True, highlight=False, soft_wrap=True).print(warning)
        return None
