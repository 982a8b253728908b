"""``rheostat flags rollback KEY --mode ...`` and ``rheostat flags rollbacks KEY``.

A rollback is one transaction: the flag's new version, its audit event, the history entry,
the outbox events, and any running release plan of the flag aborted. A gradual one's next
steps are applied by ``rheostat controller run``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from rheostat import service
from rheostat.cli.options import (
    DEFAULT_ENVIRONMENT,
    MAX_VERSION,
    ActorOption,
    DatabaseUrlOption,
    EnvOption,
    ExpectedVersionOption,
    JsonOption,
    ReasonOption,
    default_actor,
)
from rheostat.cli.output import print_json, show
from rheostat.cli.render_operations import format_rollback, format_rollbacks
from rheostat.cli.session import reading, transaction
from rheostat.errors import ValidationError
from rheostat.rollout._plan_fields import parse_duration
from rheostat.service import RollbackMode
from rheostat.settings import DEFAULT_DATABASE_URL

__all__ = ["rollback_flag", "rollback_history"]

FlagArgument = Annotated[str, typer.Argument(metavar="FLAG", help="Flag key.", show_default=False)]
Names = Annotated[list[str] | None, typer.Option(show_default=False)]


def rollback_flag(  # noqa: PLR0913  # one parameter per command-line option
    flag: FlagArgument,
    mode: Annotated[
        RollbackMode, typer.Option("--mode", "-m", help="How to roll back.", case_sensitive=False)
    ] = RollbackMode.IMMEDIATE,
    user: Names = None,
    group: Names = None,
    org: Names = None,
    version: Annotated[
        int | None, typer.Option(min=1, max=MAX_VERSION, help="--mode version: go back to it.")
    ] = None,
    steps: Annotated[
        str, typer.Option(help="--mode gradual: shares of the exposure, e.g. 75,50,25,0.")
    ] = "75,50,25,0",
    bake: Annotated[str, typer.Option(help="--mode gradual: wait between steps.")] = "5m",
    expected_version: ExpectedVersionOption = None,
    env: EnvOption = DEFAULT_ENVIRONMENT,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
    actor: ActorOption = None,
    reason: ReasonOption = None,
    as_json: JsonOption = False,
) -> None:
    """Roll a flag back: immediate (off for everyone), gradual (down in steps, a bake apart),
    targeted (--user/--group/--org get the off value) or version (--version N).

    Stops a running release plan of the flag in the same transaction.
    """
    request = service.RollbackRequest(
        mode=mode,
        users=tuple(user or ()),
        groups=tuple(group or ()),
        orgs=tuple(org or ()),
        version=version,
        steps=_steps(steps),
        bake=parse_duration(bake, "--bake"),
    )
    change = service.Change(
        actor=default_actor(actor), reason=reason, expected_version=expected_version
    )
    with transaction(database_url) as uow:
        record = service.rollback_flag(uow, env, flag, request, change=change)
    if as_json:
        print_json(service.rollback_data(record))
    else:
        show(format_rollback(record))


def rollback_history(
    flag: FlagArgument,
    env: EnvOption = DEFAULT_ENVIRONMENT,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
    as_json: JsonOption = False,
) -> None:
    """The flag's rollbacks, newest first: when, who, mode, from, to, status, why."""
    with reading(database_url) as uow:
        records = service.rollback_history(uow, env, flag)
    if as_json:
        print_json([service.rollback_data(record) for record in records])
    else:
        show(format_rollbacks(records, title=f"rollbacks of {flag} in {env}"))


def _steps(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError as error:
        raise ValidationError(
            f"--steps must be comma-separated percentages such as 75,50,25,0, got {text!r}",
            details={"field": "steps"},
        ) from error
