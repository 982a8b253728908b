"""The runner: the edge that moves a backfill's rows between the job's databases.

It reads and writes the user's databases (any SQLAlchemy URL; PostgreSQL and SQLite tested),
measures time and load, asks the pure planner (``rheostat.backfill``) what to do next, and
mirrors progress into rheostat's store through ``rheostat.service``.
"""

from rheostat.runner.backfill import (
    CHECKPOINT_TABLE,
    BackfillRunner,
    BatchReport,
    DryRunReport,
    RunResult,
    VerifyOutcome,
    default_worker,
)

__all__ = [
    "CHECKPOINT_TABLE",
    "BackfillRunner",
    "BatchReport",
    "DryRunReport",
    "RunResult",
    "VerifyOutcome",
    "default_worker",
]
