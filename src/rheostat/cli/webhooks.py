"""``rheostat webhooks add|list|remove|deliveries|deliver``: where events are sent."""

from __future__ import annotations

from typing import Annotated

import typer

from rheostat import service
from rheostat.cli.options import (
    ActorOption,
    DatabaseUrlOption,
    JsonOption,
    ReasonOption,
    default_actor,
)
from rheostat.cli.output import print_json, show, to_json_data
from rheostat.cli.render import format_note
from rheostat.cli.render_operations import format_deliveries, format_webhooks
from rheostat.cli.session import connect, reading, transaction
from rheostat.settings import DEFAULT_DATABASE_URL, Settings

__all__ = ["app"]

app = typer.Typer(help="Webhooks: signed event deliveries, retried, logged.", no_args_is_help=True)

WebhookArgument = Annotated[
    str, typer.Argument(metavar="WEBHOOK", help="Webhook id (wh_...).", show_default=False)
]


@app.command("add")
def add(  # noqa: PLR0913  # one parameter per command-line option
    url: Annotated[str, typer.Argument(metavar="URL", help="http(s) URL.", show_default=False)],
    event: Annotated[
        list[str] | None,
        typer.Option(help="Event type or family (rollback.*); repeat; default: all."),
    ] = None,
    env: Annotated[str | None, typer.Option("--env", "-e", help="Only this environment.")] = None,
    secret: Annotated[
        str | None, typer.Option(help="Signing secret (16+ characters); generated if omitted.")
    ] = None,
    description: Annotated[str, typer.Option(help="What it is for.")] = "",
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
    actor: ActorOption = None,
    reason: ReasonOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add a webhook; prints its signing secret once (keep it: it is not shown again)."""
    with transaction(database_url) as uow:
        created = service.create_webhook(
            uow,
            url,
            events=tuple(event or ()),
            environment=env,
            description=description,
            secret=secret,
            allow_private=Settings().webhook_allow_private,
            change=service.Change(actor=default_actor(actor), reason=reason),
        )
    if as_json:
        print_json({**to_json_data(created.webhook), "secret": created.secret})
        return
    show(
        format_note(f"webhook {created.webhook.id} added for {url}"),
        format_note(f"secret: {created.secret}  (shown once)", style="bold yellow"),
    )


@app.command("list")
def list_webhooks(
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL, as_json: JsonOption = False
) -> None:
    """The webhooks (never their secrets)."""
    with reading(database_url) as uow:
        webhooks = service.list_webhooks(uow)
    if as_json:
        print_json(webhooks)
    else:
        show(format_webhooks(webhooks))


@app.command("remove")
def remove(
    webhook: WebhookArgument,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
    actor: ActorOption = None,
    reason: ReasonOption = None,
) -> None:
    """Remove a webhook; nothing more is sent to it, its delivery log is kept."""
    with transaction(database_url) as uow:
        service.remove_webhook(
            uow, webhook, change=service.Change(actor=default_actor(actor), reason=reason)
        )
    show(format_note(f"webhook {webhook} removed"))


@app.command("deliveries")
def deliveries(
    webhook: WebhookArgument,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
    as_json: JsonOption = False,
) -> None:
    """The webhook's delivery log, newest first, with every attempt."""
    with reading(database_url) as uow:
        found = service.webhook_deliveries(uow, webhook, limit=limit)
    if as_json:
        print_json(found)
    else:
        show(format_deliveries(found, title=f"deliveries of {webhook}"))


@app.command("deliver")
def deliver(
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL, as_json: JsonOption = False
) -> None:
    """Send the deliveries that are due now (one pass; the controller does this each round)."""
    with connect(database_url) as store:
        policy = service.DispatchPolicy(allow_private=Settings().webhook_allow_private)
        report = service.deliver_webhooks(store, policy)
    if as_json:
        print_json(report)
    else:
        show(
            format_note(
                f"{report.claimed} sent: {report.delivered} delivered,"
                f" {report.retrying} to retry, {report.failed} failed"
            )
        )
