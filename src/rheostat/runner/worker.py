"""One worker process of a parallel backfill: ``python -m rheostat.runner.worker``.

It reads its job from ``RHEOSTAT_BACKFILL_JOB`` (set by the coordinator, ``WorkerPool``),
claims key ranges until every range is copied, and exits 0; SIGINT or SIGTERM, or the end of
its coordinator, stop it at a batch boundary (its claim is released, its range's checkpoint is
committed). It writes nothing to rheostat's store: the coordinator mirrors the progress. An
error is one line on stderr and exit status 1.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from typing import Any

from rheostat.backfill import job_from_dict
from rheostat.errors import RheostatError
from rheostat.runner.backfill import BackfillRunner
from rheostat.runner.parallel import JOB_VARIABLE, PARENT_VARIABLE

__all__ = ["main"]


def main() -> int:
    """Run the worker; return its exit status."""
    stop = threading.Event()

    def request(_signum: int, _frame: Any) -> None:
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, request)
    parent = os.environ.get(PARENT_VARIABLE, "")

    def should_stop() -> bool:
        return stop.is_set() or (parent.isdigit() and os.getppid() != int(parent))

    try:
        job = job_from_dict(json.loads(os.environ[JOB_VARIABLE]), {})
        with BackfillRunner(job) as runner:
            runner.work_ranges(should_stop=should_stop)
    except RheostatError as error:
        print(f"backfill worker {os.getpid()}: {error.message}", file=sys.stderr)  # noqa: T201
        return 1
    except (KeyError, ValueError) as error:
        print(f"backfill worker {os.getpid()}: no job: {error}", file=sys.stderr)  # noqa: T201
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
