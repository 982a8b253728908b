"""``rheostat serve``, ``rheostat migrate-db`` and ``rheostat health``: running the service."""

from __future__ import annotations

from typing import Annotated

import typer

from rheostat import service
from rheostat.cli.exit_codes import ExitCode
from rheostat.cli.options import DatabaseUrlOption, JsonOption
from rheostat.cli.output import print_json, show, to_json_data
from rheostat.cli.render import format_health, format_note
from rheostat.cli.session import connect
from rheostat.settings import DEFAULT_DATABASE_URL, Settings

__all__ = ["health", "migrate_db", "serve"]


def migrate_db(
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL, as_json: JsonOption = False
) -> None:
    """Create or upgrade the database schema (safe to run again)."""
    applied = service.migrate_database(database_url)
    if as_json:
        print_json({"applied": applied})
    elif applied:
        show(format_note(f"schema upgraded: {', '.join(applied)}"))
    else:
        show(format_note("schema already up to date"))


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    migrate: Annotated[
        bool, typer.Option("--migrate/--no-migrate", help="Upgrade the schema first.")
    ] = True,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
) -> None:
    """Run the HTTP API (uvicorn). Listens on loopback unless --host says otherwise."""
    # Imported here: the other commands should not pay for loading the web stack.
    from rheostat.api import create_app
    from rheostat.api.serving import serve_app

    if migrate:
        service.migrate_database(database_url)
    app = create_app(Settings(database_url=database_url))
    serve_app(app, host=host, port=port)


def health(
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL, as_json: JsonOption = False
) -> None:
    """Check the database and list the kill switches engaged; exit 1 unless healthy."""
    with connect(database_url) as store:
        report = service.check_health(store)
    if as_json:
        print_json({**to_json_data(report), "kill_switches_engaged": report.kill_switches_engaged})
    else:
        show(format_health(report))
    if report.status is not service.HealthStatus.HEALTHY:
        raise typer.Exit(code=int(ExitCode.FAILED))
