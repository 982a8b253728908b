"""``rheostat flags ...``: read and change the flags of one environment.

Each command parses its options, calls one service function and renders the result (a Rich
table or line, or JSON with ``--json``). Changes are recorded with ``--actor`` and ``--reason``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer

from rheostat import service
from rheostat.cli.documents import flag_definition
from rheostat.cli.flag_setting import FlagSetting, write_flag_setting
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
from rheostat.cli.render import (
    format_change,
    format_flag,
    format_flag_version,
    format_history,
    format_note,
    format_rollout_table,
)
from rheostat.cli.session import reading, transaction
from rheostat.errors import ValidationError
from rheostat.service import FlagRecord
from rheostat.settings import DEFAULT_DATABASE_URL

__all__ = ["app"]

app = typer.Typer(help="Flags: list, inspect, change, ramp, kill, restore.", no_args_is_help=True)

FlagArgument = Annotated[str, typer.Argument(metavar="FLAG", help="Flag key.", show_default=False)]


def _report(verb: str, record: FlagRecord, *, as_json: bool) -> None:
    if as_json:
        print_json(record)
    else:
        show(format_change(verb, record))


@app.command("list")
def list_flags(
    env: EnvOption = DEFAULT_ENVIRONMENT,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
    as_json: JsonOption = False,
) -> None:
    """Every flag of the environment with its state and rollout."""
    with reading(database_url) as uow:
        rows = service.flag_summaries(uow, env)
    if as_json:
        print_json(rows)
    else:
        show(format_rollout_table(rows, title=f"flags in {env}"))


@app.command("get")
def get_flag(
    flag: FlagArgument,
    version: Annotated[
        int | None, typer.Option(min=1, max=MAX_VERSION, help="Show this old version.")
    ] = None,
    env: EnvOption = DEFAULT_ENVIRONMENT,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
    as_json: JsonOption = False,
) -> None:
    """A flag's definition and state (or one version of its history)."""
    with reading(database_url) as uow:
        found = (
            service.get_flag(uow, env, flag)
            if version is None
            else service.get_flag_version(uow, env, flag, version)
        )
    if as_json:
        print_json(found)
    elif isinstance(found, FlagRecord):
        show(format_flag(found))
    else:
        show(format_flag_version(found))


@app.command("set")
def set_flag(  # noqa: PLR0913  # one parameter per command-line option
    flag: FlagArgument,
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="YAML/JSON definition (or document).")
    ] = None,
    definition: Annotated[
        str | None, typer.Option("--definition", "-d", help="Inline JSON/YAML definition.")
    ] = None,
    description: Annotated[str | None, typer.Option(help="Set the description.")] = None,
    expected_version: ExpectedVersionOption = None,
    env: EnvOption = DEFAULT_ENVIRONMENT,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
    actor: ActorOption = None,
    reason: ReasonOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a flag, or replace its definition.

    With no definition a new flag is a bool flag, off for everyone: ramp it with
    `rheostat flags rollout`. Without --expected-version the change applies to the flag as
    it is committed, never refused for a concurrent change.
    """
    setting = FlagSetting(
        definition=flag_definition(flag, file=file, inline=definition), description=description
    )
    change = service.Change(
        actor=default_actor(actor), reason=reason, expected_version=expected_version
    )
    with transaction(database_url) as uow:
        record, created = write_flag_setting(uow, env, flag, setting, change=change)
    _report("created" if created else "updated", record, as_json=as_json)


@app.command("delete")
def delete_flag(
    flag: FlagArgument,
    expected_version: ExpectedVersionOption = None,
    env: EnvOption = DEFAULT_ENVIRONMENT,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
    actor: ActorOption = None,
    reason: ReasonOption = None,
) -> None:
    """Delete a flag (its history is kept; `flags restore` brings it back)."""
    with transaction(database_url) as uow:
        service.delete_flag(
            uow,
            env,
            flag,
            change=service.Change(
                actor=default_actor(actor),
                reason=reason,
                expected_version=expected_version,
            ),
        )
    show(format_note(f"{flag} deleted in {env}"))


@app.command("enable")
def enable_flag(  # noqa: PLR0913  # one parameter per command-line option
    flag: FlagArgument,
    expected_version: ExpectedVersionOption = None,
    env: EnvOption = DEFAULT_ENVIRONMENT,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
    actor: ActorOption = None,
    reason: ReasonOption = None,
    as_json: JsonOption = False,
) -> None:
    """Turn a flag on: its rules and targets apply again."""
    with transaction(database_url) as uow:
        record = service.enable_flag(
            uow,
            env,
            flag,
            change=service.Change(
                actor=default_actor(actor),
                reason=reason,
                expected_version=expected_version,
            ),
        )
    _report("enabled", record, as_json=as_json)


@app.command("disable")
def disable_flag(  # noqa: PLR0913  # one parameter per command-line option
    flag: FlagArgument,
    expected_version: ExpectedVersionOption = None,
    env: EnvOption = DEFAULT_ENVIRONMENT,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
    actor: ActorOption = None,
    reason: ReasonOption = None,
    as_json: JsonOption = False,
) -> None:
    """Turn a flag off: everyone gets its default variant."""
    with transaction(database_url) as uow:
        record = service.disable_flag(
            uow,
            env,
            flag,
            change=service.Change(
                actor=default_actor(actor),
                reason=reason,
                expected_version=expected_version,
            ),
        )
    _report("disabled", record, as_json=as_json)


@app.command("kill")
def kill_flag(
    flag: FlagArgument,
    env: EnvOption = DEFAULT_ENVIRONMENT,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
    actor: ActorOption = None,
    reason: ReasonOption = None,
    as_json: JsonOption = False,
) -> None:
    """Engage the kill switch now (never refused for a stale version)."""
    with transaction(database_url) as uow:
        record = service.kill_flag(
            uow, env, flag, change=service.Change(actor=default_actor(actor), reason=reason)
        )
    _report("killed", record, as_json=as_json)


# `-5` looks like an option to click: let unknown options through as arguments, so a negative
# PERCENT reaches `_percentage` and is refused with the rule, not "No such option: -5".
@app.command("rollout", context_settings={"ignore_unknown_options": True})
def rollout(  # noqa: PLR0913  # one parameter per command-line option
    flag: FlagArgument,
    percent_text: Annotated[
        str,
        typer.Argument(
            metavar="PERCENT", help="Share of users served 'on' (0-100).", show_default=False
        ),
    ],
    expected_version: ExpectedVersionOption = None,
    env: EnvOption = DEFAULT_ENVIRONMENT,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
    actor: ActorOption = None,
    reason: ReasonOption = None,
    as_json: JsonOption = False,
) -> None:
    """Serve a bool flag to PERCENT % of users; widening keeps those who had it."""
    percent = _percentage(percent_text)
    with transaction(database_url) as uow:
        record = service.set_rollout_percentage(
            uow,
            env,
            flag,
            percent,
            change=service.Change(
                actor=default_actor(actor),
                reason=reason,
                expected_version=expected_version,
            ),
        )
    _report(f"rolled out to {percent:g}%", record, as_json=as_json)


def _percentage(text: str) -> float:
    """Return PERCENT as a number from 0 to 100; ``nan``, ``inf`` and the rest are refused."""
    try:
        percent = float(text)
    except ValueError:
        percent = math.nan
    if not 0 <= percent <= 100:  # also refuses nan, which compares false with everything
        raise ValidationError(
            f"rollout percentage must be a number from 0 to 100, got {text}",
            details={"field": "percent", "value": text},
        )
    return abs(percent)  # -0 is 0


@app.command("target")
def target(  # noqa: PLR0913  # one parameter per command-line option
    flag: FlagArgument,
    users: Annotated[list[str] | None, typer.Option("--user", "-u", help="User key.")] = None,
    groups: Annotated[list[str] | None, typer.Option("--group", "-g", help="Group.")] = None,
    variant: Annotated[str | None, typer.Option(help="Variant to serve them.")] = None,
    remove: Annotated[bool, typer.Option("--remove", help="Take them off instead.")] = False,
    env: EnvOption = DEFAULT_ENVIRONMENT,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
    actor: ActorOption = None,
    reason: ReasonOption = None,
    as_json: JsonOption = False,
) -> None:
    """Serve a flag to listed users and groups (an allow-list), or --remove them."""
    who = default_actor(actor)
    with transaction(database_url) as uow:
        if remove:
            record = service.remove_flag_targets(
                uow,
                env,
                flag,
                users=users or (),
                groups=groups or (),
                change=service.Change(actor=who, reason=reason),
            )
        else:
            record = service.add_flag_targets(
                uow,
                env,
                flag,
                users=users or (),
                groups=groups or (),
                variant=variant,
                change=service.Change(
                    actor=who,
                    reason=reason,
                ),
            )
    _report("targets removed" if remove else "targets added", record, as_json=as_json)


@app.command("history")
def history(
    flag: FlagArgument,
    env: EnvOption = DEFAULT_ENVIRONMENT,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
    as_json: JsonOption = False,
) -> None:
    """Every version of a flag, newest first: who, when, what and why."""
    with reading(database_url) as uow:
        versions = service.flag_history(uow, env, flag)
    if as_json:
        print_json(versions)
    else:
        show(format_history(versions, title=f"history of {flag} in {env}"))


@app.command("restore")
def restore(  # noqa: PLR0913  # one parameter per command-line option
    flag: FlagArgument,
    version: Annotated[
        int,
        typer.Argument(metavar="VERSION", min=1, max=MAX_VERSION, help="Version to bring back."),
    ],
    expected_version: ExpectedVersionOption = None,
    env: EnvOption = DEFAULT_ENVIRONMENT,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
    actor: ActorOption = None,
    reason: ReasonOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write a new version equal to VERSION (deleted flags too).

    Without --expected-version, the restore applies to the flag's newest version: the person
    at the terminal has just read the history. Scripts should pass --expected-version.
    """
    with transaction(database_url) as uow:
        if expected_version is None:
            expected_version = service.flag_history(uow, env, flag)[0].version
        record = service.restore_flag(
            uow,
            env,
            flag,
            version,
            change=service.Change(
                actor=default_actor(actor),
                reason=reason,
                expected_version=expected_version,
            ),
        )
    _report(f"restored to version {version}", record, as_json=as_json)
