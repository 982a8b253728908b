"""``rheostat alerts list|rules|set-rules|resolve|evaluate``: alerts and their rules."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rheostat import service
from rheostat.cli.documents import read_document
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
from rheostat.cli.render import format_note
from rheostat.cli.render_operations import format_alerts
from rheostat.cli.session import reading, transaction
from rheostat.service import AlertStatus
from rheostat.settings import DEFAULT_DATABASE_URL

__all__ = ["app"]

app = typer.Typer(help="Alerts: seed 003's thresholds, plans' alerts.", no_args_is_help=True)


@app.command("list")
def list_alerts(
    firing: Annotated[bool, typer.Option("--firing", help="Only those still firing.")] = False,
    env: Annotated[str | None, typer.Option("--env", "-e", help="Only this environment.")] = None,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
    as_json: JsonOption = False,
) -> None:
    """Alerts, newest first."""
    status = AlertStatus.FIRING if firing else None
    with reading(database_url) as uow:
        alerts = service.list_alerts(uow, environment=env, status=status)
    if as_json:
        print_json([service.alert_data(alert) for alert in alerts])
    else:
        show(format_alerts(alerts))


@app.command("set-rules")
def set_rules(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="YAML/JSON rule document.", show_default=False)
    ],
    env: EnvOption = DEFAULT_ENVIRONMENT,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
    actor: ActorOption = None,
    reason: ReasonOption = None,
) -> None:
    """Replace the environment's alert rules with FILE (validated whole)."""
    document = read_document(file)
    with transaction(database_url) as uow:
        stored = service.set_alert_rules(
            uow,
            env,
            document,
            change=service.Change(actor=default_actor(actor), reason=reason),
        )
    rules = len(stored.document.get("rules", []))
    show(format_note(f"{rules} alert rules stored for {env} (version {stored.version})"))


@app.command("rules")
def show_rules(
    env: EnvOption = DEFAULT_ENVIRONMENT,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
) -> None:
    """Print the environment's alert rules (JSON)."""
    with reading(database_url) as uow:
        stored = service.get_alert_rules(uow, env)
    print_json({"version": stored.version, **dict(stored.document)})


@app.command("resolve")
def resolve(
    alert: Annotated[int, typer.Argument(metavar="ALERT", help="Alert id.", show_default=False)],
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
    actor: ActorOption = None,
    reason: ReasonOption = None,
) -> None:
    """Resolve a firing alert by hand."""
    with transaction(database_url) as uow:
        service.resolve_alert(
            uow, alert, change=service.Change(actor=default_actor(actor), reason=reason)
        )
    show(format_note(f"alert {alert} resolved"))


@app.command("evaluate")
def evaluate(
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL, as_json: JsonOption = False
) -> None:
    """Judge every rule now (the controller does this each round); print what changed."""
    with transaction(database_url) as uow:
        changed = service.evaluate_alerts(uow)
    if as_json:
        print_json([service.alert_data(alert) for alert in changed])
    else:
        show(format_alerts(changed))
