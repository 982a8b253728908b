"""``rheostat demo``: the whole flag life cycle, end to end, on a throw-away database.

Creates an environment and an admin key, creates a flag, ramps it to 12.5 %, evaluates 10,000
users through ``rheostat.FlagSet`` built from the service's snapshot, kills the flag, shows the
kill switch as ``/health`` reports it, reads the history (who, when, why), restores the version
before the kill and checks the very same users get the flag back.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.panel import Panel

from rheostat import Context, FlagSet, service
from rheostat.cli.demo_experiment import run_experiment_demo
from rheostat.cli.options import ActorOption, default_actor
from rheostat.cli.output import show
from rheostat.cli.render import (
    format_change,
    format_exposure,
    format_health,
    format_history,
    format_note,
    format_step,
    format_what_next,
)
from rheostat.service import SqlStore

__all__ = ["demo"]

ENVIRONMENT = "production"
FLAG = "new-checkout"
RAMP_PERCENT = 12.5


@dataclass(frozen=True, slots=True, kw_only=True)
class _Demo:
    store: SqlStore
    actor: str
    users: int


def demo(
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="Run on this database instead of a temporary SQLite file.",
            show_default="a temporary SQLite file",
        ),
    ] = None,
    users: Annotated[int, typer.Option(min=1, help="How many users to evaluate.")] = 10_000,
    actor: ActorOption = None,
) -> None:
    """Walk through a flag's life (create, ramp, kill, audit, restore), then an A/B test."""
    with _database(database_url) as url:
        service.migrate_database(url)
        store = service.open_store(url)
        try:
            _run(_Demo(store=store, actor=default_actor(actor), users=users))
        finally:
            store.close()
        run_experiment_demo(url, environment=ENVIRONMENT, actor=default_actor(actor), users=users)
    show(_what_next(database_url))


@contextmanager
def _database(database_url: str | None) -> Iterator[str]:
    if database_url is not None:
        yield database_url
        return
    with tempfile.TemporaryDirectory(prefix="rheostat-demo-") as directory:
        yield f"sqlite:///{Path(directory) / 'demo.db'}"


def _run(run: _Demo) -> None:
    _set_up(run)
    ramped = _create_and_ramp(run)
    exposed = _evaluate(run)
    _kill(run)
    _show_health(run)
    _show_history(run)
    _restore(run, ramped.version, exposed)


def _set_up(run: _Demo) -> None:
    with run.store.unit_of_work() as uow:
        show(format_step(1, f"Create the {ENVIRONMENT} environment and an admin API key"))
        service.create_environment(
            uow,
            ENVIRONMENT,
            change=service.Change(actor=run.actor, reason="rheostat demo: first environment"),
        )
        created = service.create_api_key(
            uow,
            name="demo-admin",
            scope="admin",
            change=service.Change(actor=run.actor, reason="rheostat demo"),
        )
        show(format_note(f"   environment {ENVIRONMENT} created"))
        show(format_note(f"   admin key {created.api_key.id} created ({created.api_key.prefix}…)"))


def _create_and_ramp(run: _Demo) -> service.FlagRecord:
    with run.store.unit_of_work() as uow:
        show(format_step(2, f"Create the flag {FLAG} and ramp it to {RAMP_PERCENT}%"))
        definition = {"description": "New checkout flow"}
        created = service.create_flag(
            uow,
            ENVIRONMENT,
            FLAG,
            definition,
            change=service.Change(actor=run.actor, reason="ship dark first"),
        )
        show(format_change("created (off for everyone)", created))
        ramped = service.set_rollout_percentage(
            uow,
            ENVIRONMENT,
            FLAG,
            RAMP_PERCENT,
            change=service.Change(
                actor=run.actor,
                reason=f"canary: {RAMP_PERCENT}% of users",
            ),
        )
        show(format_change(f"ramped to {RAMP_PERCENT}%", ramped))
        return ramped


def _evaluate(run: _Demo) -> frozenset[str]:
    with run.store.reading() as uow:
        flags = FlagSet.from_dict(service.snapshot(uow, ENVIRONMENT).document)
        keys = (f"user-{number}" for number in range(run.users))
        exposed = frozenset(key for key in keys if flags.is_enabled(FLAG, Context(key=key)))
        show(format_exposure(FLAG, len(exposed), run.users))
        return exposed


def _kill(run: _Demo) -> None:
    with run.store.unit_of_work() as uow:
        show(format_step(3, "Errors climb in the canary: kill the flag"))
        killed = service.kill_flag(
            uow,
            ENVIRONMENT,
            FLAG,
            change=service.Change(actor=run.actor, reason="checkout errors up 4x in the canary"),
        )
    show(format_change("killed", killed))
    _evaluate(run)


def _show_health(run: _Demo) -> None:
    show(format_step(4, "What GET /health reports"))
    show(format_health(service.check_health(run.store)))


def _show_history(run: _Demo) -> None:
    with run.store.unit_of_work() as uow:
        show(format_step(5, "The flag's history: who, when, why"))
        versions = service.flag_history(uow, ENVIRONMENT, FLAG)
        show(format_history(versions, title=f"history of {FLAG} in {ENVIRONMENT}"))


def _restore(run: _Demo, version: int, exposed_before: frozenset[str]) -> None:
    with run.store.unit_of_work() as uow:
        show(format_step(6, f"The fix is out: restore version {version} (before the kill)"))
        newest = service.flag_history(uow, ENVIRONMENT, FLAG)[0].version
        restored = service.restore_flag(
            uow,
            ENVIRONMENT,
            FLAG,
            version,
            change=service.Change(
                actor=run.actor,
                reason="fix deployed: resume",
                expected_version=newest,
            ),
        )
    show(format_change(f"restored to version {version}", restored))
    exposed_after = _evaluate(run)
    same = exposed_after == exposed_before
    verdict = "the very same users have it again" if same else "the exposed users changed!"
    show(format_note(f"   {verdict}", style="green" if same else "bold red"))


def _what_next(database_url: str | None) -> Panel:
    target = f" --database-url {database_url}" if database_url else ""
    commands = [
        (f"rheostat migrate-db{target}", "create the schema"),
        (f"rheostat env create production{target}", "your first environment"),
        (f"rheostat flags set my-flag{target}", "a bool flag, off for everyone"),
        (f"rheostat flags rollout my-flag 5 -r 'canary'{target}", "5% of users get it"),
        (f"rheostat flags list{target}", "every flag, state and rollout"),
        (f"rheostat keys create ops --scope admin{target}", "a key for the HTTP API"),
        (f"rheostat experiment create my-test --metric latency:lower{target}", "an A/B test"),
        (f"rheostat serve{target}", "API + docs on 127.0.0.1:8000"),
    ]
    footnote = (
        "The demo ran on a temporary SQLite file, now deleted."
        if database_url is None
        else f"The demo's data stays in {database_url}."
    )
    return format_what_next(commands, footnote=footnote)
