"""``rheostat keys ...``: API keys for the HTTP API (``sdk`` or ``admin``)."""

from __future__ import annotations

from typing import Annotated

import typer

from rheostat import service
from rheostat.cli.options import (
    DEFAULT_ENVIRONMENT,
    ActorOption,
    DatabaseUrlOption,
    JsonOption,
    ReasonOption,
    default_actor,
)
from rheostat.cli.output import print_json, show
from rheostat.cli.render import format_api_keys, format_created_key, format_note
from rheostat.cli.session import reading, transaction
from rheostat.service import ApiKeyScope
from rheostat.settings import DEFAULT_DATABASE_URL

__all__ = ["app"]

app = typer.Typer(
    help="API keys: sdk keys read one environment, admin keys do all.", no_args_is_help=True
)


@app.command("create")
def create_key(  # noqa: PLR0913  # one parameter per command-line option
    name: Annotated[
        str, typer.Argument(metavar="NAME", help="What the key is for, e.g. checkout-service.")
    ],
    scope: Annotated[
        ApiKeyScope, typer.Option(help="sdk: read one environment's flags; admin: everything.")
    ] = ApiKeyScope.SDK,
    env: Annotated[
        str | None,
        typer.Option(
            "--env",
            "-e",
            envvar="RHEOSTAT_ENV",
            help="Environment an sdk key reads.",
            show_default=DEFAULT_ENVIRONMENT,
        ),
    ] = None,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
    actor: ActorOption = None,
    reason: ReasonOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a key and print its token (shown this once, never stored)."""
    environment = (env or DEFAULT_ENVIRONMENT) if scope is ApiKeyScope.SDK else env
    with transaction(database_url) as uow:
        created = service.create_api_key(
            uow,
            name=name,
            scope=scope,
            environment=environment,
            change=service.Change(
                actor=default_actor(actor),
                reason=reason,
            ),
        )
    if as_json:
        print_json({"api_key": created.api_key, "token": created.token})
    else:
        show(format_created_key(created))


@app.command("list")
def list_keys(
    active: Annotated[bool, typer.Option("--active", help="Hide revoked keys.")] = False,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
    as_json: JsonOption = False,
) -> None:
    """Every key (never the tokens)."""
    with reading(database_url) as uow:
        keys = service.list_api_keys(uow, include_revoked=not active)
    if as_json:
        print_json(keys)
    else:
        show(format_api_keys(keys))


@app.command("revoke")
def revoke_key(
    key_id: Annotated[
        str, typer.Argument(metavar="KEY_ID", help="The key's id (see `rheostat keys list`).")
    ],
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
    actor: ActorOption = None,
    reason: ReasonOption = None,
    as_json: JsonOption = False,
) -> None:
    """Revoke a key: it stops working at once."""
    with transaction(database_url) as uow:
        key = service.revoke_api_key(
            uow, key_id, change=service.Change(actor=default_actor(actor), reason=reason)
        )
    if as_json:
        print_json(key)
    else:
        show(format_note(f"key {key.id} ({key.name}) revoked", style="yellow"))
