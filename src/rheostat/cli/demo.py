"""``rheostat demo``: the whole product on a laptop, told as it happens, then left running.

A fresh SQLite database in ``.demo/`` (recreated each run) gets a company's flags in two
environments, a pilot segment and keys; a kill switch is engaged and seen on ``/health``; an
A/B test gets its traffic and its results; two release plans run on simulated traffic with a
fast clock (a healthy canary that reaches 100 %, and an error regression that the sequential
guard rolls back on its own, with the evidence); a backfill copies seed 003's revenue rows
and verifies them. Then ``rheostat serve`` shows it all at http://127.0.0.1:8000 until Ctrl-C
(``--no-serve`` exits 0 instead). Simulated traffic is seeded: every run tells the same story.
"""

from __future__ import annotations

import contextlib
import socket
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from rheostat import service
from rheostat.cli.demo_backfill import create_app_tables, run_backfill
from rheostat.cli.demo_clock import FastClock
from rheostat.cli.demo_experiment import run_experiment
from rheostat.cli.demo_plans import run_releases
from rheostat.cli.demo_scenario import PRODUCTION, RELEASES
from rheostat.cli.demo_seed import Keys, kill_and_check, seed
from rheostat.cli.exit_codes import ExitCode
from rheostat.cli.options import ActorOption, default_actor
from rheostat.cli.output import print_error, show
from rheostat.cli.render import format_note
from rheostat.cli.render_demo import format_dashboard, format_finished, format_step
from rheostat.clock import SystemClock
from rheostat.errors import ConfigurationError
from rheostat.settings import Settings

__all__ = ["demo"]

STORY_SPAN = timedelta(hours=3, minutes=15)
"""How far back the story starts: the plans' simulated hours end before the present."""
_BETWEEN_ACTS = timedelta(minutes=10)
_TRAFFIC_SEED = 20261207
_USERS = 10_000
_FILES = ("rheostat.db", "app.db")
_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a command stopped by Ctrl-C


@dataclass(frozen=True, slots=True, kw_only=True)
class _Files:
    store: Path
    app: Path

    @property
    def store_url(self) -> str:
        return f"sqlite:///{self.store}"


def demo(
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Run the tour to the end and exit 0; no server.")
    ] = False,
    port: Annotated[int, typer.Option(min=1, max=65535, help="The dashboard's port.")] = 8000,
    directory: Annotated[
        Path,
        typer.Option("--dir", help="Where the demo's SQLite files go (recreated each run)."),
    ] = Path(".demo"),
    actor: ActorOption = None,
) -> None:
    """The product tour: flags, a kill switch, an A/B test, two release plans, a backfill."""
    real = SystemClock()
    began = real.monotonic()
    if not no_serve:
        _refuse_busy_port(port)  # now, not after the tour
    files = _fresh_files(directory)
    try:
        keys, surprises = _tour(files, actor=default_actor(actor))
    except KeyboardInterrupt:
        print_error("demo interrupted")
        raise typer.Exit(code=_INTERRUPTED) from None
    for surprise in surprises:
        print_error(surprise)
    if no_serve:
        seconds = real.monotonic() - began
        show(format_finished(database=str(files.store), admin_key=keys.admin, seconds=seconds))
        if surprises:
            raise typer.Exit(code=int(ExitCode.FAILED))
        return
    # uvicorn shuts down cleanly on Ctrl-C, then raises the SIGINT it caught once more.
    with contextlib.suppress(KeyboardInterrupt):
        _serve(files, keys, port=port)
    show(format_note(f"stopped; the demo's data stays in {files.store}"))


def _refuse_busy_port(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as error:
            raise ConfigurationError(
                f"--port {port}: 127.0.0.1:{port} is taken ({error.strerror}); "
                "name a free one, or run with --no-serve",
                details={"port": port},
            ) from error


def _fresh_files(directory: Path) -> _Files:
    """The demo's files, deleted if a previous run left them (journals included)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in _FILES:
        for suffix in ("", "-wal", "-shm", "-journal"):
            (directory / f"{name}{suffix}").unlink(missing_ok=True)
    resolved = directory.resolve()
    return _Files(store=resolved / _FILES[0], app=resolved / _FILES[1])


def _tour(files: _Files, *, actor: str) -> tuple[Keys, list[str]]:
    """Every act, in order; returns the keys, and what did not end as the story says."""
    service.migrate_database(files.store_url)
    clock = FastClock(SystemClock(), behind=STORY_SPAN)
    store = service.open_store(files.store_url, clock=clock)
    try:
        show(format_step(1, "A company's flags: staging and production, a pilot segment, keys"))
        keys = seed(store, actor=actor)
        clock.advance(_BETWEEN_ACTS)
        show(format_step(2, "Consolidated metrics double-count tokens: engage the kill switch"))
        kill_and_check(store, actor=actor)
        clock.advance(_BETWEEN_ACTS)
        show(format_step(3, "An A/B test on search ranking, with traffic"))
        run_experiment(store, clock, environment=PRODUCTION, actor=actor, users=_USERS)
        clock.advance(_BETWEEN_ACTS)
        show(format_step(4, "Two release plans on simulated traffic (a pass = 1 simulated min)"))
        plans = run_releases(store, clock, RELEASES, actor=actor, seed=_TRAFFIC_SEED)
        clock.catch_up()
        show(format_step(5, "Backfill seed 003's revenue rows into the partitioned table"))
        app_url = create_app_tables(files.app)
        identical = run_backfill(store, app_url, actor=actor)
    finally:
        store.close()
    return keys, _surprises(plans, identical=identical)


def _surprises(plans: list[service.PlanRecord], *, identical: bool) -> list[str]:
    expected = {release.plan.name: release.expected for release in RELEASES}
    found = [
        f"plan {record.name} ended {record.state.phase.value}, not {expected[record.name].value}"
        for record in plans
        if record.state.phase is not expected[record.name]
    ]
    return found + ([] if identical else ["the backfill's verify found differences"])


def _serve(files: _Files, keys: Keys, *, port: int) -> None:
    """``rheostat serve`` on the demo's database, until Ctrl-C."""
    # Imported here, as `rheostat serve` does: the tour should not pay for the web stack.
    from rheostat.api import create_app
    from rheostat.api.serving import serve_app

    url = f"http://127.0.0.1:{port}"
    show(format_step(6, "The dashboard"))
    show(
        format_dashboard(url=url, admin_key=keys.admin, sdk_key=keys.sdk, database=str(files.store))
    )
    app = create_app(Settings(database_url=files.store_url))
    serve_app(app, host="127.0.0.1", port=port, log_level="warning")
