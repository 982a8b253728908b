"""``rheostat controller run``: the reconcile loop that moves release plans.

Each pass ticks every active plan, each in its own transaction (gates looked at, state, flag
change and evidence stored together). SIGINT/SIGTERM stop it between ticks.
"""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer

from rheostat import service
from rheostat.cli.options import DatabaseUrlOption
from rheostat.cli.output import show
from rheostat.cli.render_plans import format_tick
from rheostat.cli.session import connect
from rheostat.settings import DEFAULT_DATABASE_URL

__all__ = ["app"]

app = typer.Typer(help="The controller that runs release plans.", no_args_is_help=True)


@app.command("run")
def run(
    interval: Annotated[
        float, typer.Option(min=0.1, max=3600, help="Seconds between passes.")
    ] = 10.0,
    once: Annotated[
        bool, typer.Option("--once", help="One pass over the plans, then exit.")
    ] = False,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
) -> None:
    """Tick every active plan, every INTERVAL seconds, until stopped."""
    stop = threading.Event()
    previous = {
        signum: signal.signal(signum, lambda *_: stop.set())
        for signum in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        with connect(database_url) as store:
            while True:
                _pass(store)
                if once or stop.wait(interval):
                    return
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _pass(store: service.SqlStore) -> None:
    with store.reading() as uow:
        plans = service.active_plans(uow)
    for environment, name in plans:
        with store.unit_of_work() as uow:
            report = service.tick_plan(uow, environment, name)
        if report.changed:
            show(format_tick(report))
