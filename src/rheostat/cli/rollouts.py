"""``rheostat rollout ...``: start a release plan, see where it is, steer it.

The controller (``rheostat controller run``) moves plans; these commands start one, show it,
and apply an operator's command at once. Exit status: 0, 1 when the plan failed or was
rolled back (``status``), 2 for a usage error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

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
from rheostat.cli.render_plans import format_plan_status
from rheostat.cli.session import reading, transaction
from rheostat.rollout import load_plan
from rheostat.rollout.state import Command, CommandKind, Phase
from rheostat.settings import DEFAULT_DATABASE_URL

__all__ = ["app"]

app = typer.Typer(help="Release plans: start, status, and steer them.", no_args_is_help=True)

PlanArgument = Annotated[str, typer.Argument(metavar="PLAN", help="Plan name.", show_default=False)]
_FAILED = (Phase.ROLLED_BACK, Phase.FAILED)


@app.command("start")
def start(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="Plan document.", show_default=False)
    ],
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
    actor: ActorOption = None,
    reason: ReasonOption = None,
    as_json: JsonOption = False,
) -> None:
    """Store the plan and start it; the controller applies its first stage at its next look."""
    plan = load_plan(file)
    change = service.Change(actor=default_actor(actor), reason=reason)
    with transaction(database_url) as uow:
        service.create_plan(uow, plan, change=change)
        command = Command(kind=CommandKind.START, actor=change.actor, reason=reason)
        report = service.command_plan(uow, plan.environment, plan.name, command)
        events = service.plan_events(uow, plan.environment, plan.name)
    _report(report.plan, events, as_json=as_json)


@app.command("status")
def status(
    plan: PlanArgument,
    env: EnvOption = DEFAULT_ENVIRONMENT,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
    as_json: JsonOption = False,
) -> None:
    """Where the plan is: state, stage, exposure, and every event with its evidence."""
    with reading(database_url) as uow:
        record = service.get_plan(uow, env, plan)
        events = service.plan_events(uow, env, plan)
    _report(record, events, as_json=as_json)
    if record.state.phase in _FAILED:
        raise typer.Exit(code=int(ExitCode.FAILED))


def _report(record: service.PlanRecord, events: list[service.PlanEvent], *, as_json: bool) -> None:
    if as_json:
        print_json(service.plan_status_document(record, events))
    else:
        show(format_plan_status(record, events))


def _steer(kind: CommandKind) -> Any:
    def command(
        plan: PlanArgument,
        env: EnvOption = DEFAULT_ENVIRONMENT,
        database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
        actor: ActorOption = None,
        reason: ReasonOption = None,
        as_json: JsonOption = False,
    ) -> None:
        issued = Command(kind=kind, actor=default_actor(actor), reason=reason)
        with transaction(database_url) as uow:
            report = service.command_plan(uow, env, plan, issued)
            events = service.plan_events(uow, env, plan)
        _report(report.plan, events, as_json=as_json)

    command.__doc__ = {
        CommandKind.PAUSE: "Hold the plan where it is.",
        CommandKind.RESUME: "Resume a paused plan; the current bake starts again.",
        CommandKind.APPROVE: "Approve the stage that waits for approval.",
        CommandKind.ADVANCE: "End the current ramp's bake early (never skips an approval).",
        CommandKind.ABORT: "Stop the plan; the flag is left as it is.",
        CommandKind.ROLLBACK: "Roll the change back now, as the plan's on_failure says.",
    }[kind]
    return command


for _kind in (
    CommandKind.PAUSE,
    CommandKind.RESUME,
    CommandKind.APPROVE,
    CommandKind.ADVANCE,
    CommandKind.ABORT,
    CommandKind.ROLLBACK,
):
    app.command(_kind.value)(_steer(_kind))
