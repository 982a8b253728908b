"""``rheostat backfill ...``: copy rows in resumable, throttled batches, then prove the copy.

``plan`` and ``dry-run`` write nothing; ``run`` and ``resume`` copy (a Rich progress bar, or
one JSON line per batch with ``--json``) and stop cleanly at a batch boundary on SIGINT or
SIGTERM; ``verify`` compares both sides chunk by chunk (``--repair`` re-copies what differs);
``status`` and ``pause`` work on the job as rheostat's store knows it.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from rheostat import service
from rheostat.backfill import BackfillJob, load_job
from rheostat.cli.exit_codes import ExitCode
from rheostat.cli.options import (
    ActorOption,
    DatabaseUrlOption,
    JsonOption,
    ReasonOption,
    default_actor,
)
from rheostat.cli.output import print_json, show
from rheostat.cli.render_backfill import (
    format_backfill_plan,
    format_backfill_status,
    format_dry_run,
    format_seconds,
    format_verify,
)
from rheostat.cli.session import connect, reading
from rheostat.runner import BackfillRunner, BatchReport, RunResult
from rheostat.settings import DEFAULT_DATABASE_URL

__all__ = ["app"]

app = typer.Typer(help="Backfills: copy rows in resumable, verified batches.", no_args_is_help=True)

JobArgument = Annotated[
    Path,
    typer.Argument(
        metavar="JOB.yaml", help="Backfill job file (YAML or JSON).", show_default=False
    ),
]
WorkersOption = Annotated[
    int | None,
    typer.Option(
        "--workers",
        min=1,
        max=64,
        help="Parallel workers claiming key ranges (PostgreSQL; default: the job's "
        "parallel.workers, else 1).",
        show_default=False,
    ),
]
RestartOption = Annotated[
    bool,
    typer.Option(
        "--restart",
        help="Forget the checkpoint and start from the first key (rows are overwritten).",
    ),
]


def _job(path: Path) -> BackfillJob:
    return load_job(path, os.environ)


@app.command("plan")
def plan(job: JobArgument, as_json: JsonOption = False) -> None:
    """Check the job file whole and show what would run, with the SQL of one batch."""
    with BackfillRunner(_job(job)) as runner:
        description = runner.describe()
    if as_json:
        print_json(description)
    else:
        show(format_backfill_plan(description))


@app.command("dry-run")
def dry_run(job: JobArgument, as_json: JsonOption = False) -> None:
    """Count the rows and time one sample batch, rolled back: nothing is written."""
    with BackfillRunner(_job(job)) as runner:
        report = asdict(runner.dry_run())
    if as_json:
        print_json(report)
    else:
        show(format_dry_run(report))


@app.command("run")
def run(  # noqa: PLR0913  # its options
    job: JobArgument,
    restart: RestartOption = False,
    then_verify: Annotated[
        bool,
        typer.Option(
            "--verify",
            help="Once the copy is complete, verify it (exit 1 unless zero differences).",
        ),
    ] = False,
    workers: WorkersOption = None,
    as_json: JsonOption = False,
    actor: ActorOption = None,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
) -> None:
    """Copy the rows from the checkpoint on (a second run continues; a finished job stays done)."""
    _copy(
        job,
        restart=restart,
        resume=False,
        as_json=as_json,
        actor=actor,
        url=database_url,
        then_verify=then_verify,
        workers=workers,
    )


@app.command("resume")
def resume(
    job: JobArgument,
    workers: WorkersOption = None,
    as_json: JsonOption = False,
    actor: ActorOption = None,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
) -> None:
    """Continue from the checkpoint (refused when there is none, or the job file changed)."""
    _copy(
        job,
        restart=False,
        resume=True,
        as_json=as_json,
        actor=actor,
        url=database_url,
        workers=workers,
    )


@app.command("pause")
def pause(
    job: JobArgument,
    actor: ActorOption = None,
    reason: ReasonOption = None,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
) -> None:
    """Ask the running copy to stop at its next batch boundary (``run``/``resume`` continue)."""
    name = _job(job).name
    change = service.Change(actor=default_actor(actor), reason=reason)
    with connect(database_url) as store, store.unit_of_work() as uow:
        record = service.pause_backfill(uow, name, change=change)
    show(f"backfill {name}: {record.status}")


@app.command("verify")
def verify(
    job: JobArgument,
    repair: Annotated[
        bool, typer.Option("--repair", help="Re-copy the differing key ranges, then verify them.")
    ] = False,
    chunk_rows: Annotated[
        int | None, typer.Option("--chunk-rows", min=1, max=10_000_000, help="Rows per chunk.")
    ] = None,
    as_json: JsonOption = False,
    actor: ActorOption = None,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
) -> None:
    """Compare source and target chunk by chunk; exit 0 only with zero differences."""
    with (
        connect(database_url) as store,
        BackfillRunner(_job(job), store=store, actor=default_actor(actor)) as runner,
    ):
        outcome = runner.verify(repair=repair, chunk_rows=chunk_rows)
    document = outcome.to_dict()
    if as_json:
        print_json(document)
    else:
        show(format_verify(document))
    if not outcome.identical:
        raise typer.Exit(code=int(ExitCode.FAILED))


@app.command("status")
def status(
    job: JobArgument,
    as_json: JsonOption = False,
    database_url: DatabaseUrlOption = DEFAULT_DATABASE_URL,
) -> None:
    """The job's status, progress, rate, ETA and last verify, from rheostat's store."""
    name = _job(job).name
    with reading(database_url) as uow:
        document = service.backfill_status_document(service.get_backfill(uow, name))
    if as_json:
        print_json(document)
    else:
        show(format_backfill_status(document))


def _copy(  # noqa: PLR0913  # the options of `run`
    path: Path,
    *,
    restart: bool,
    resume: bool,
    as_json: bool,
    actor: str | None,
    url: str,
    then_verify: bool = False,
    workers: int | None = None,
) -> None:
    job = _job(path)
    verified: dict[str, Any] | None = None
    stop = threading.Event()
    with (
        _stopping_on_signals(stop),
        connect(url) as store,
        BackfillRunner(job, store=store, actor=default_actor(actor)) as runner,
    ):
        if as_json:
            result = runner.run(
                restart=restart,
                resume=resume,
                should_stop=stop.is_set,
                on_batch=_json_line,
                workers=workers,
            )
        else:
            result = _with_progress_bar(
                lambda on_batch: runner.run(
                    restart=restart,
                    resume=resume,
                    should_stop=stop.is_set,
                    on_batch=on_batch,
                    workers=workers,
                ),
                job.name,
            )
        if then_verify and result.status == "completed":
            verified = runner.verify().to_dict()
    _finish(result, as_json=as_json, name=job.name, path=path)
    if verified is not None:
        if as_json:
            print(json.dumps({"event": "verify", **verified}), flush=True)  # noqa: T201
        else:
            show(format_verify(verified))
        if not verified["identical"]:
            raise typer.Exit(code=int(ExitCode.FAILED))


def _json_line(report: BatchReport) -> None:
    print(json.dumps({"event": "batch", **asdict(report)}), flush=True)  # noqa: T201


def _with_progress_bar(
    run: Callable[[Callable[[BatchReport], None]], RunResult], name: str
) -> RunResult:
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} rows/s  eta {task.fields[eta]}"),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task(name, total=None, rate="-", eta="?")

        def advance(report: BatchReport) -> None:
            bar.update(
                task,
                completed=report.rows_done,
                total=max(report.rows_total or 0, report.rows_done) or None,
                rate=f"{report.rows_per_second:,.0f}",
                eta=format_seconds(report.eta_seconds),
            )

        return run(advance)


def _finish(result: RunResult, *, as_json: bool, name: str, path: Path) -> None:
    if as_json:
        print(json.dumps({"event": "result", **asdict(result)}), flush=True)  # noqa: T201
    else:
        show(
            f"backfill {name}: {result.status}, {result.rows_done:,} rows done "
            f"({result.rows_copied:,} this run in {format_seconds(result.seconds)}, "
            f"{result.rows_per_second:,.0f} rows/s)"
        )
        if result.status != "completed":
            show(f"continue with: rheostat backfill resume {path}")
    if result.status != "completed":
        raise typer.Exit(code=int(ExitCode.FAILED))


@contextmanager
def _stopping_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT and SIGTERM ask the copy to stop at the next batch boundary (a second SIGINT
    still interrupts: the batch in flight rolls back, the checkpoint stays consistent)."""

    def request(signum: int, _frame: Any) -> None:
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop.set()

    previous = {
        signum: signal.signal(signum, request) for signum in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
