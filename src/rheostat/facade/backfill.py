"""Seed 000's ``BackfillManager``, over rheostat's backfill runner.

The seed ran each backfill task in turn with ``run_full_backfill(dry_run=True)`` and returned a
summary. Here each task is a backfill job (a job file or a ``BackfillJob``): a dry run counts
the rows and times a sample batch that is rolled back; an execution copies resumably and then
verifies, and a task succeeds only when the verify pass finds zero differences::

    manager = BackfillManager(["jobs/documents-to-search.yaml"], database_url="sqlite:///r.db")
    summary = await manager.run_full_backfill(dry_run=True)
    summary["tasks"]["documents-to-search"]["details"]["rows_remaining"]
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rheostat import service
from rheostat.backfill import BackfillJob, load_job
from rheostat.clock import Clock, SystemClock
from rheostat.runner import BackfillRunner

__all__ = ["BackfillManager"]


class BackfillManager:
    """Runs a list of backfill jobs, dry or for real, and sums them up as the seed did.

    Args:
        jobs: job files (YAML/JSON) or ``BackfillJob`` values, run in this order.
        database_url: rheostat's store, for status, leases and verify results (optional).
        environ: where ``${VAR}`` in job URLs come from (``os.environ`` by default).
        verify: after executing a job, verify it (a difference fails the task).
    """

    def __init__(
        self,
        jobs: Sequence[str | Path | BackfillJob],
        *,
        database_url: str | None = None,
        environ: Mapping[str, str] | None = None,
        verify: bool = True,
        clock: Clock | None = None,
    ) -> None:
        self._jobs = list(jobs)
        self._database_url = database_url
        self._environ = os.environ if environ is None else environ
        self._verify = verify
        self._clock = clock or SystemClock()
        self.logger = logging.getLogger(__name__)

    async def run_full_backfill(self, dry_run: bool = True) -> dict[str, Any]:
        """Run every job (``dry_run``: count and estimate only); return the seed's summary:
        ``dry_run``, ``total_duration_seconds``, ``tasks`` (``status``, ``duration_seconds``
        and ``details`` or ``error`` per job), ``success_count``, ``failure_count``."""
        started = self._clock.monotonic()
        results: dict[str, dict[str, Any]] = {}
        for index, entry in enumerate(self._jobs):
            task_started = self._clock.monotonic()
            name = entry.name if isinstance(entry, BackfillJob) else f"job-{index + 1}"
            try:
                job = entry if isinstance(entry, BackfillJob) else load_job(entry, self._environ)
                name = job.name
                self.logger.info("Starting backfill: %s", name)
                details = await asyncio.to_thread(self._run_one, job, dry_run)
                failed = details.pop("failure", None)
            except Exception as error:  # noqa: BLE001 - the seed records a failed task and goes on
                details, failed = {}, str(error)
            duration = self._clock.monotonic() - task_started
            if failed is None:
                results[name] = {
                    "status": "success",
                    "duration_seconds": duration,
                    "details": details,
                }
                self.logger.info("Completed %s in %.2fs", name, duration)
            else:
                results[name] = {"status": "failed", "duration_seconds": duration, "error": failed}
                if details:
                    results[name]["details"] = details
                self.logger.error("Failed %s: %s", name, failed)
        successes = sum(1 for result in results.values() if result["status"] == "success")
        summary = {
            "dry_run": dry_run,
            "total_duration_seconds": self._clock.monotonic() - started,
            "tasks": results,
            "success_count": successes,
            "failure_count": len(results) - successes,
        }
        self.logger.info(
            "Backfill complete: %d success, %d failed", successes, len(results) - successes
        )
        return summary

    def _run_one(self, job: BackfillJob, dry_run: bool) -> dict[str, Any]:
        store = None if self._database_url is None else service.open_store(self._database_url)
        try:
            with BackfillRunner(
                job, store=store, clock=self._clock, actor="BackfillManager"
            ) as runner:
                if dry_run:
                    report = asdict(runner.dry_run())
                    seconds = report["estimated_seconds"]
                    report["estimated_time_minutes"] = None if seconds is None else seconds / 60
                    return report
                result = asdict(runner.run())
                if result["status"] != "completed":
                    return {**result, "failure": f"the copy ended {result['status']}"}
                if not self._verify:
                    return result
                outcome = runner.verify()
                result["verify"] = outcome.to_dict()
                if not outcome.identical:
                    return {**result, "failure": "verify found differences: no cut-over"}
                return result
        finally:
            if store is not None:
                store.close()
