"""The worker processes of a parallel backfill: started, watched, replaced and stopped.

The coordinator (``BackfillRunner.run`` with ``workers > 1``) splits the key space into ranges
and starts one process per worker (``python -m rheostat.runner.worker``, the job in its
environment); each claims ranges with ``SKIP LOCKED`` until none is left. A worker that dies
(SIGKILL, OOM) loses nothing: its claim ends with its connection and another worker takes the
range over from the range's checkpoint. The pool starts a replacement, up to a limit of
crashes, past which the run fails (a worker that dies at once each time is a fault to fix, not
to retry for ever).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

__all__ = ["JOB_VARIABLE", "PARENT_VARIABLE", "WorkerPool"]

JOB_VARIABLE = "RHEOSTAT_BACKFILL_JOB"
"""The environment variable a worker process reads its job document from (URLs expanded, so
the worker needs no other variable; the environment is private to its user)."""
PARENT_VARIABLE = "RHEOSTAT_BACKFILL_PARENT"
"""The coordinator's pid: a worker whose coordinator is gone stops at its next batch."""
_STOP_SECONDS = 60.0


class WorkerPool:
    """``size`` worker processes running ``python -m rheostat.runner.worker`` on ``job``."""

    def __init__(self, job: Mapping[str, Any], size: int, *, max_crashes: int) -> None:
        self.size = size
        self.max_crashes = max_crashes
        self.crashes = 0
        self.last_exit: int | None = None
        self._environment = {
            **os.environ,
            JOB_VARIABLE: json.dumps(job),
            PARENT_VARIABLE: str(os.getpid()),
        }
        self._processes: list[subprocess.Popen[bytes]] = []

    @property
    def pids(self) -> tuple[int, ...]:
        """The workers running now."""
        return tuple(process.pid for process in self._processes if process.poll() is None)

    def fill(self) -> None:
        """Start workers until ``size`` run."""
        self._processes = [process for process in self._processes if process.poll() is None]
        while len(self._processes) < self.size:
            self._processes.append(
                subprocess.Popen(  # our own interpreter and module, no shell
                    [sys.executable, "-m", "rheostat.runner.worker"],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    env=self._environment,
                )
            )

    def reap(self) -> bool:
        """Forget the workers that ended; count those that failed or were killed. Returns
        whether the crashes are still within ``max_crashes``."""
        for process in self._processes:
            code = process.poll()
            if code is not None and code != 0:
                self.crashes += 1
                self.last_exit = code
        self._processes = [process for process in self._processes if process.poll() is None]
        return self.crashes <= self.max_crashes

    def stop(self) -> None:
        """Ask every worker to stop at its batch boundary (SIGTERM), wait, then kill the rest."""
        for process in self._processes:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        for process in self._processes:
            try:
                process.wait(timeout=_STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._processes = []
