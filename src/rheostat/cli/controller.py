"""``rheostat controller run``: the reconcile loop that moves release plans.

Each pass leases the active plans no other controller holds, looks at each plan's gates in a
read-only transaction, and applies the look in one write transaction (state, flag change and
evidence stored together) if the lease is still held and the plan has not moved. Several
controllers may run at once; a dead one's plans are taken over when its lease expires, and
one that stops on SIGINT/SIGTERM (between ticks) gives its leases back at once.

A check stage's suite runs after the tick's commit; a backfill stage's copy is started as a
detached ``rheostat backfill run --verify`` process, and the passes go on while it runs.

A second thread runs the operations round every interval: due gradual rollback steps, alert
rules, and webhook deliveries from the outbox (``service.run_operations``).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from rheostat import service
from rheostat.cli.options import DatabaseUrlOption
from rheostat.cli.output import print_error, show
from rheostat.cli.render_plans import format_tick
from rheostat.cli.session import connect
from rheostat.errors import NotFound, StorageError
from rheostat.settings import DEFAULT_DATABASE_URL, Settings

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
    lease: Annotated[
        float | None,
        typer.Option(
            min=1,
            max=86400,
            help="Seconds a plan stays leased to this controller without a pass "
            "(default: 3 intervals, at least 30 s). Another controller takes it over after.",
        ),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(help="This controller's name in leases (default: host:pid:random)."),
    ] = None,
    prometheus_url: Annotated[
        str | None,
        typer.Option(
            envvar="RHEOSTAT_PROMETHEUS_URL",
            help="The Prometheus HTTP API that `source: prometheus` gates query.",
        ),
    ] = None,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
) -> None:
    """Tick every active plan, every INTERVAL seconds, until stopped."""
    settings = Settings()
    me = _Controller(
        owner=name or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}",
        lease=timedelta(seconds=lease if lease is not None else max(30.0, 3 * interval)),
        sources=service.MetricSources(prometheus_url=prometheus_url),
        checks_dir=Path(settings.checks_dir),
        backfills_dir=Path(settings.backfills_dir),
        environ=dict(os.environ),
        webhooks=service.DispatchPolicy(allow_private=settings.webhook_allow_private),
    )
    stop = threading.Event()
    previous = {
        signum: signal.signal(signum, lambda *_: stop.set())
        for signum in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        with connect(database_url) as store:
            try:
                _pass(store, me)  # a broken database or schema stops it here
                if once:
                    _operations(store, me.webhooks)
                    return
                operations = threading.Thread(
                    target=_operations_loop, args=(store, me.webhooks, stop, interval), daemon=True
                )
                operations.start()
                while not stop.wait(interval):
                    _pass_or_report(store, me)
                operations.join()
            finally:
                _release(store, me.owner)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Controller:
    """This controller: its name in leases, how long they last, and what it reads and runs."""

    owner: str
    lease: timedelta
    sources: service.MetricSources
    checks_dir: Path
    backfills_dir: Path
    environ: Mapping[str, str]
    webhooks: service.DispatchPolicy


def _pass_or_report(store: service.SqlStore, me: _Controller) -> None:
    """A pass while running: a database that fails now is reported and tried again next pass."""
    try:
        _pass(store, me)
    except StorageError as error:
        print_error(f"controller pass failed, trying again next pass: {error}")


def _pass(store: service.SqlStore, me: _Controller) -> None:
    with store.unit_of_work() as uow:
        plans = service.claim_plans(uow, me.owner, lease=me.lease)
    for environment, name in plans:
        try:
            with store.reading() as uow:
                look = service.observe_plan(uow, environment, name, sources=me.sources)
            with store.unit_of_work() as uow:
                report = service.apply_observation(uow, look, owner=me.owner)
        except NotFound:
            continue  # deleted since the claim
        if report is not None and report.changed:
            show(format_tick(report))
        if report is None:
            continue  # the lease was lost or the plan moved: whoever holds it runs its checks
        # After the commit, outside any transaction: a suite may take a while; a backfill
        # stage's worker is started detached (it may take hours) and the pass goes on.
        runs = service.stage_work(look, report)
        if runs:
            done = service.run_stage_work(
                store,
                report.plan,
                runs,
                checks_dir=me.checks_dir,
                backfills_dir=me.backfills_dir,
                environ=me.environ,
            )
            for started in done.backfills:
                show(_started_line(environment, name, started))
        service.run_gate_checks(store, report.plan, checks_dir=me.checks_dir, environ=me.environ)


def _started_line(environment: str, plan: str, started: service.StartedWorker) -> str:
    where = f"{environment}/{plan}: backfill {started.job}"
    if started.pid is None:
        return f"{where} cannot run: {started.problem}"
    log = f", log {started.log}" if started.log is not None else ""
    return f"{where}: worker {started.pid} started ({started.path}{log})"


def _operations_loop(
    store: service.SqlStore,
    webhooks: service.DispatchPolicy,
    stop: threading.Event,
    interval: float,
) -> None:
    """Rollback steps, alerts and webhooks, on their own thread: a webhook receiver that
    hangs until its timeout never delays a plan's tick."""
    while True:
        _operations(store, webhooks)
        if stop.wait(interval):
            return


def _operations(store: service.SqlStore, webhooks: service.DispatchPolicy) -> None:
    """One round of gradual rollback steps, alert rules and webhook deliveries."""
    try:
        report = service.run_operations(store, webhooks)
    except StorageError as error:
        print_error(f"operations round failed, trying again next round: {error}")
        return
    for line in report.errors:
        print_error(line)


def _release(store: service.SqlStore, owner: str) -> None:
    """Give the leases back; if the database is gone they expire on their own, and the
    reason it is gone has been reported already."""
    with contextlib.suppress(StorageError), store.unit_of_work() as uow:
        service.release_plans(uow, owner)
