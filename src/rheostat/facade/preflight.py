"""Seed 000's ``PreRolloutChecker``: ``await checker.run_all_checks()`` -> ``CheckResult`` list.

The seed hard-codes seven checks (schema, search index, flags, dependencies, baseline,
backups, monitoring); here they are a suite file (docs/checks.md) that the checker runs with
``rheostat.checks``, all at once, each with its timeout, and stores as a check run::

    checker = PreRolloutChecker(suite="checks/pre-rollout.yaml")
    results = await checker.run_all_checks()
    if any(result.status == "fail" for result in results):
        raise SystemExit(1)

Statuses are the seed's words: ``pass``, ``warning``, ``fail``.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rheostat.checks import CheckResult as RunResult
from rheostat.checks import CheckRun, Status, Suite, parse_suite
from rheostat.clock import Clock
from rheostat.errors import ConfigurationError
from rheostat.service import (
    RunOrigin,
    SqlStore,
    load_suite_file,
    migrate_database,
    open_store,
    run_checks,
)
from rheostat.settings import Settings

__all__ = ["CheckResult", "PreRolloutChecker"]

logger = logging.getLogger("rheostat.facade.preflight")

_SEED_STATUS = {Status.PASS: "pass", Status.WARN: "warning", Status.FAIL: "fail"}
DEFAULT_SUITE = "pre-rollout.yaml"


@dataclass
class CheckResult:
    """Seed 000's result: ``status`` is ``"pass"``, ``"warning"`` or ``"fail"``; ``details``
    holds the check's evidence, its kind, duration and error (``timeout``/``crash``)."""

    name: str
    status: str
    message: str
    details: dict[str, Any] | None = field(default=None)


class PreRolloutChecker:
    """Runs a pre-flight suite, like seed 000's checker, and stores each run.

    Args:
        settings, db_session, redis_client, es_client: the seed's collaborators, accepted
            for drop-in use and not needed (the suite names what to reach).
        suite: a suite file, or a suite document (a mapping); by default
            ``<RHEOSTAT_CHECKS_DIR>/pre-rollout.yaml``.
        database_url / store: rheostat's database (migrated and opened, or an open store);
            by default ``RHEOSTAT_DATABASE_URL``.
        environ: where ``${VAR}`` comes from (``os.environ`` by default).
    """

    def __init__(  # noqa: PLR0913  # the seed's four positionals, then keyword-only options
        self,
        settings: object = None,
        db_session: object = None,
        redis_client: object = None,
        es_client: object = None,
        *,
        suite: str | Path | Mapping[str, Any] | None = None,
        database_url: str | None = None,
        store: SqlStore | None = None,
        environ: Mapping[str, str] | None = None,
        actor: str = "pre-rollout-checker",
        clock: Clock | None = None,
    ) -> None:
        del settings, db_session, redis_client, es_client
        if database_url is not None and store is not None:
            raise ConfigurationError("give database_url or store, not both")
        resolved = Settings()
        self._environ = dict(os.environ if environ is None else environ)
        self._suite = suite if suite is not None else Path(resolved.checks_dir) / DEFAULT_SUITE
        url = database_url if database_url is not None else resolved.database_url
        if store is None:
            migrate_database(url)
        self._store = store if store is not None else open_store(url, clock=clock)
        self._owns_store = store is None
        self._actor = actor
        self.last_run: CheckRun | None = None
        """The stored run of the latest ``run_all_checks``."""

    async def run_all_checks(self) -> list[CheckResult]:
        """Run every check of the suite at once and return their results, in suite order.

        Raises:
            NotFound: no suite file. InvalidDefinition: the suite is invalid (by path).
        """
        run = await asyncio.to_thread(self._run)
        results = [_seed_result(result) for result in run.results]
        summary = run.summary
        logger.info(
            "Pre-rollout checks: %d passed, %d failed, %d warnings",
            summary.passed,
            summary.failed,
            summary.warned,
        )
        return results

    def close(self) -> None:
        """Close the store if this checker opened it."""
        if self._owns_store:
            self._store.close()

    def _run(self) -> CheckRun:
        suite = self._load()
        origin = RunOrigin(source="python", actor=self._actor)
        self.last_run = run_checks(self._store, suite, origin=origin)
        return self.last_run

    def _load(self) -> Suite:
        if isinstance(self._suite, Mapping):
            return parse_suite(self._suite, environ=self._environ)
        return load_suite_file(Path(self._suite), environ=self._environ)


def _seed_result(result: RunResult) -> CheckResult:
    details = {
        **dict(result.evidence),
        "kind": result.kind,
        "duration_seconds": result.duration_seconds,
    }
    if result.error is not None:
        details["error"] = result.error
    return CheckResult(
        name=result.name,
        status=_SEED_STATUS[result.status],
        message=result.message,
        details=details,
    )
