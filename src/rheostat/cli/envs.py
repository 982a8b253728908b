"""``rheostat env ...``: environments (development, staging, production...)."""

from __future__ import annotations

from typing import Annotated

import typer

from rheostat import service
from rheostat.cli.options import (
    ActorOption,
    DatabaseUrlOption,
    ExpectedVersionOption,
    JsonOption,
    ReasonOption,
    default_actor,
)
from rheostat.cli.output import print_json, show
from rheostat.cli.render import format_environment, format_environments, format_note
from rheostat.cli.session import reading, transaction
from rheostat.settings import DEFAULT_DATABASE_URL

__all__ = ["app"]

app = typer.Typer(help="Environments: each has its own flags and SDK keys.", no_args_is_help=True)

EnvArgument = Annotated[
    str, typer.Argument(metavar="ENV", help="Environment key, e.g. production.")
]
NameOption = Annotated[str | None, typer.Option(help="Human name (default: the key).")]
DescriptionOption = Annotated[str | None, typer.Option(help="Free text.")]


@app.command("list")
def list_environments(
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL, as_json: JsonOption = False
) -> None:
    """Every environment."""
    with reading(database_url) as uow:
        environments = service.list_environments(uow)
    if as_json:
        print_json(environments)
    else:
        show(format_environments(environments))


@app.command("get")
def get_environment(
    key: EnvArgument,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
    as_json: JsonOption = False,
) -> None:
    """One environment."""
    with reading(database_url) as uow:
        environment = service.get_environment(uow, key)
    if as_json:
        print_json(environment)
    else:
        show(format_environment(environment))


@app.command("create")
def create_environment(  # noqa: PLR0913  # one parameter per command-line option
    key: EnvArgument,
    name: NameOption = None,
    description: Annotated[str, typer.Option(help="Free text.")] = "",
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
    actor: ActorOption = None,
    reason: ReasonOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create an environment."""
    with transaction(database_url) as uow:
        environment = service.create_environment(
            uow,
            key,
            name=name,
            description=description,
            change=service.Change(
                actor=default_actor(actor),
                reason=reason,
            ),
        )
    if as_json:
        print_json(environment)
    else:
        show(format_note(f"environment {environment.key} created"))


@app.command("update")
def update_environment(  # noqa: PLR0913  # one parameter per command-line option
    key: EnvArgument,
    name: NameOption = None,
    description: DescriptionOption = None,
    expected_version: ExpectedVersionOption = None,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
    actor: ActorOption = None,
    reason: ReasonOption = None,
    as_json: JsonOption = False,
) -> None:
    """Rename an environment or change its description."""
    with transaction(database_url) as uow:
        environment = service.update_environment(
            uow,
            key,
            name=name,
            description=description,
            change=service.Change(
                actor=default_actor(actor), reason=reason, expected_version=expected_version
            ),
        )
    if as_json:
        print_json(environment)
    else:
        show(format_note(f"environment {key} updated (version {environment.version})"))


@app.command("delete")
def delete_environment(
    key: EnvArgument,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
    actor: ActorOption = None,
    reason: ReasonOption = None,
) -> None:
    """Delete an empty environment (no flags, segments, experiments or active SDK keys)."""
    with transaction(database_url) as uow:
        service.delete_environment(
            uow, key, change=service.Change(actor=default_actor(actor), reason=reason)
        )
    show(format_note(f"environment {key} deleted"))
