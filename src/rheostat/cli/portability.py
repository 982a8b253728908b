"""``rheostat flags import|export``: an environment's whole document, as YAML or JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rheostat import service
from rheostat.cli.documents import read_document, render_document, write_document
from rheostat.cli.options import (
    DEFAULT_ENVIRONMENT,
    ActorOption,
    DatabaseUrlOption,
    EnvOption,
    JsonOption,
    ReasonOption,
    default_actor,
)
from rheostat.cli.output import print_json, show, to_json_data
from rheostat.cli.render import format_import_result, format_note
from rheostat.cli.session import reading, transaction
from rheostat.service import ImportMode
from rheostat.settings import DEFAULT_DATABASE_URL

__all__ = ["export_flags", "import_flags"]


def import_flags(  # noqa: PLR0913  # one parameter per command-line option
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            help="Native YAML/JSON document (UTF-8); - reads standard input.",
            show_default=False,
        ),
    ],
    mode: Annotated[
        ImportMode, typer.Option(help="merge keeps unmentioned flags; replace deletes them.")
    ] = ImportMode.MERGE,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate, show, write nothing.")] = (
        False
    ),
    env: EnvOption = DEFAULT_ENVIRONMENT,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
    actor: ActorOption = None,
    reason: ReasonOption = None,
    as_json: JsonOption = False,
) -> None:
    """Load a document into the environment: all of it, or nothing.

    FILE is a path, or `-` for standard input: `rheostat flags export -e staging |
    rheostat flags import - -e production --dry-run`.
    """
    document = read_document(file)
    with transaction(database_url) as uow:
        result = service.import_flags(
            uow,
            env,
            document,
            mode=mode,
            dry_run=dry_run,
            change=service.Change(
                actor=default_actor(actor),
                reason=reason,
            ),
        )
    if as_json:
        print_json({"dry_run": dry_run, "changed": result.changed, **to_json_data(result)})
    else:
        show(format_import_result(result, dry_run=dry_run))


def export_flags(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file, not stdout.")
    ] = None,
    env: EnvOption = DEFAULT_ENVIRONMENT,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
    as_json: JsonOption = False,
) -> None:
    """Print the environment as a native document (YAML; JSON with --json)."""
    with reading(database_url) as uow:
        document = service.export_flags(uow, env)
    if output is None:
        typer.echo(render_document(document, as_json=as_json), nl=False)
        return
    write_document(document, output, as_json=as_json)
    show(format_note(f"{len(document.get('flags', {}))} flags of {env} written to {output}"))
