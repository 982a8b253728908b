"""The demo's backfill: seed 003's revenue rows into the partitioned table, then verified.

The application's own database (a SQLite file beside rheostat's) gets its legacy table and the
new, empty one, as the application's migration would make them; then the job runs through
``rheostat.runner`` exactly as ``rheostat backfill run --verify`` does, with its progress,
lease and verify result kept in rheostat's store.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rheostat import service
from rheostat.backfill import job_from_dict
from rheostat.cli.demo_scenario import BACKFILL_ROWS, PILOT_ORGS, backfill_document
from rheostat.cli.output import show
from rheostat.cli.render import format_note
from rheostat.cli.render_backfill import format_verify
from rheostat.runner import BackfillRunner, BatchReport

__all__ = ["create_app_tables", "run_backfill"]

_CURRENCIES = ("EUR", "USD", "GBP")
_FIRST_DAY = datetime(2024, 1, 1, tzinfo=UTC)
_MILESTONES = 4


def create_app_tables(path: Path, rows: int = BACKFILL_ROWS) -> str:
    """The application's database: ``revenue_transactions`` with ``rows`` rows and the empty
    ``revenue_transactions_partitioned``. Returns its URL."""
    with closing(sqlite3.connect(path)) as connection, connection:
        connection.executescript(
            """
            CREATE TABLE revenue_transactions (
                id INTEGER PRIMARY KEY, org_id TEXT NOT NULL, amount_cents INTEGER NOT NULL,
                currency TEXT NOT NULL, created_at TEXT NOT NULL);
            CREATE TABLE revenue_transactions_partitioned (
                id INTEGER PRIMARY KEY, org_id TEXT NOT NULL, amount_cents INTEGER NOT NULL,
                currency TEXT NOT NULL, created_at TEXT NOT NULL, month TEXT NOT NULL);
            """
        )
        connection.executemany(
            "INSERT INTO revenue_transactions VALUES (?, ?, ?, ?, ?)",
            (_transaction(number) for number in range(1, rows + 1)),
        )
    return f"sqlite:///{path}"


def _transaction(number: int) -> tuple[int, str, int, str, str]:
    org = PILOT_ORGS[number % len(PILOT_ORGS)] if number % 10 == 0 else f"org-{number % 997}"
    when = _FIRST_DAY + timedelta(minutes=13 * number)
    amount = (number * 7919) % 250_000 + 100
    return number, org, amount, _CURRENCIES[number % 3], when.isoformat()


def run_backfill(store: service.SqlStore, app_database_url: str, *, actor: str) -> bool:
    """Copy, then verify; show the progress and the verify report. True if identical."""
    job = job_from_dict(backfill_document(app_database_url), os.environ)
    with BackfillRunner(job, store=store, actor=actor) as runner:
        runner.mirror_seconds = 0  # a short job: mirror every batch, the dashboard shows them
        show(format_note(f"   {job.name}: {runner.strategy.value} copy, batches of 2,000 rows"))
        result = runner.run(on_batch=_Progress())
        show(
            format_note(
                f"   {result.status}: {result.rows_done:,} rows in {result.batches} batches, "
                f"{result.rows_per_second:,.0f} rows/s"
            )
        )
        verified = runner.verify()
    show(format_verify(verified.to_dict()))
    return verified.identical


class _Progress:
    """Prints a line at each quarter of the rows."""

    def __init__(self) -> None:
        self.printed = 0

    def __call__(self, report: BatchReport) -> None:
        if report.percent is None:
            return
        reached = int(report.percent * _MILESTONES // 100)
        if reached > self.printed:
            self.printed = reached
            eta = f", eta {report.eta_seconds:.1f} s" if report.eta_seconds else ""
            show(
                format_note(
                    f"   batch {report.batch}: {report.rows_done:,} of {report.rows_total:,} "
                    f"rows ({report.percent:.0f}%), {report.rows_per_second:,.0f} rows/s{eta}",
                    style="cyan",
                )
            )
