"""A release plan's ``check`` stage: which checks it names, running them, and their verdict.

``check: [plan_rollback, plan_gate_data, database_schema, backups]`` names checks two ways:

* ``plan_rollback`` and ``plan_gate_data`` are checks of the plan itself, run with the plan's
  environment and name;
* any other name is a suite file in the checks folder (``RHEOSTAT_CHECKS_DIR``, ``./checks``
  by default): ``backups`` runs every check of ``checks/backups.yaml`` (or ``.yml``), named
  ``backups.<check>``. Suite files are the operator's own, so every kind may run from them
  (a plan sent over HTTP can only name files, never bring a command of its own).

The controller calls ``run_check_stage`` for a tick's ``RunStage`` of a check stage (outside
the tick's transaction); it stores a check run tagged with the plan and stage. The next tick's
look (``check_stage_verdict``) turns the newest such run into the stage's outcome: ``pass``
when nothing failed, ``fail`` (with the failed checks as evidence) otherwise, and
``inconclusive`` while no run has been stored since the stage started.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from rheostat.checks import (
    BUILTIN_KINDS,
    PLAN_KINDS,
    CheckResult,
    CheckRun,
    CheckSpec,
    Status,
    Suite,
)
from rheostat.errors import InvalidDefinition, NotFound, ValidationError
from rheostat.rollout import CheckStage, GateVerdict, Verdict
from rheostat.rollout.state import PlanState, RunStage
from rheostat.service.check_runs import RunOrigin, load_suite_file, run_checks
from rheostat.service.plans import TickReport, get_plan
from rheostat.store.database import SqlStore
from rheostat.store.records import PlanRecord
from rheostat.store.unit_of_work import UnitOfWork

__all__ = [
    "check_stage_verdict",
    "named_suite",
    "run_check_stage",
    "run_stages",
    "run_tick_checks",
    "stage_suite",
]

_PLAN_KIND_NAMES = frozenset(kind.name for kind in PLAN_KINDS)
_SUFFIXES = (".yaml", ".yml")


def run_tick_checks(
    store: SqlStore,
    report: TickReport,
    *,
    checks_dir: Path,
    environ: Mapping[str, str],
) -> list[CheckRun]:
    """Run every check stage a committed tick asked for (``report.run``); other kinds of
    ``RunStage`` (backfills) are left to their own runner. Returns the stored runs.

    The controller calls this once the tick's transaction has committed, with none open.
    """
    return run_stages(store, report.plan, report.run, checks_dir=checks_dir, environ=environ)


def run_stages(
    store: SqlStore,
    record: PlanRecord,
    runs: Sequence[RunStage],
    *,
    checks_dir: Path,
    environ: Mapping[str, str],
) -> list[CheckRun]:
    """Run the check stages among ``runs`` of the plan ``record``; return the stored runs."""
    stages = record.state.plan.stages
    return [
        run_check_stage(
            store,
            record.environment,
            record.name,
            action.stage,
            checks_dir=checks_dir,
            environ=environ,
        )
        for action in runs
        if 0 <= action.stage < len(stages) and isinstance(stages[action.stage], CheckStage)
    ]


def run_check_stage(
    store: SqlStore,
    environment: str,
    plan: str,
    stage: int,
    *,
    checks_dir: Path,
    environ: Mapping[str, str],
) -> CheckRun:
    """Run the checks of stage ``stage`` (0-based, as in ``RunStage.stage``) and store the run.

    Call it after the tick that asked for it has committed, with no transaction open.

    Raises:
        NotFound: no such plan. ValidationError: that stage is not a check stage.
    """
    with store.reading() as uow:
        record = get_plan(uow, environment, plan)
    stages = record.state.plan.stages
    if not 0 <= stage < len(stages) or not isinstance(stages[stage], CheckStage):
        raise ValidationError(
            f"stage {stage + 1} of plan {plan!r} is not a check stage",
            details={"plan": plan, "stage": stage + 1},
        )
    check_stage = stages[stage]
    assert isinstance(check_stage, CheckStage)  # noqa: S101  # checked just above
    suite, problems = stage_suite(
        check_stage, environment=environment, plan=plan, checks_dir=checks_dir, environ=environ
    )
    origin = RunOrigin(
        source="plan", actor="controller", environment=environment, plan=plan, stage=stage
    )
    return run_checks(store, suite, origin=origin, problems=problems)


def stage_suite(
    stage: CheckStage,
    *,
    environment: str,
    plan: str,
    checks_dir: Path,
    environ: Mapping[str, str],
) -> tuple[Suite, tuple[CheckResult, ...]]:
    """The suite a check stage names, and a failed result for each name that cannot run (a
    missing or invalid suite file), so the stage fails with the reason instead of waiting."""
    return named_suite(
        stage.checks,
        suite=f"{plan}.stage-checks",
        environment=environment,
        plan=plan,
        checks_dir=checks_dir,
        environ=environ,
    )


def named_suite(
    names: Sequence[str],
    *,
    suite: str,
    environment: str,
    plan: str,
    checks_dir: Path,
    environ: Mapping[str, str],
) -> tuple[Suite, tuple[CheckResult, ...]]:
    """The suite ``suite`` of the checks a plan names (a check stage's or a check gate's):
    plan checks and suite files (module docstring), and a failed result for each name that
    cannot run."""
    checks: list[CheckSpec] = []
    problems: list[CheckResult] = []
    for index, name in enumerate(names):
        path = f"check[{index}]"
        if name in _PLAN_KIND_NAMES:
            params = BUILTIN_KINDS[name].read({"environment": environment, "plan": plan}, path)
            checks.append(CheckSpec(name=name, kind=name, params=params, path=path))
            continue
        try:
            found = load_suite_file(_suite_path(checks_dir, name), environ=environ)
        except (NotFound, InvalidDefinition) as error:
            problems.append(
                CheckResult(
                    name=name,
                    kind="suite",
                    status=Status.FAIL,
                    message=error.message,
                    error="crash",
                )
            )
            continue
        checks.extend(
            CheckSpec(
                name=f"{name}.{check.name}",
                kind=check.kind,
                params=check.params,
                timeout_seconds=check.timeout_seconds,
                severity=check.severity,
                path=f"{name}:{check.path}",
            )
            for check in found.checks
        )
    return Suite(name=suite, checks=tuple(checks)), tuple(problems)


def _suite_path(checks_dir: Path, name: str) -> Path:
    for suffix in _SUFFIXES:
        candidate = checks_dir / f"{name}{suffix}"
        if candidate.is_file():
            return candidate
    return checks_dir / f"{name}{_SUFFIXES[0]}"


def check_stage_verdict(uow: UnitOfWork, state: PlanState, now: datetime) -> GateVerdict:
    """The outcome of the plan's current check stage, from its newest stored run."""
    plan = state.plan
    since = state.stage_started_at or now
    run = uow.check_runs.latest_for_stage(plan.environment, plan.name, state.stage, since=since)
    if run is None:
        return GateVerdict(
            gate="check",
            verdict=Verdict.INCONCLUSIVE,
            message=f"stage {state.stage + 1}: waiting for its check run",
            evidence={"since": since.isoformat(), "awaiting_run": True},
        )
    summary = run.summary
    evidence: dict[str, Any] = {
        "check_run": run.id,
        "summary": summary.to_document(),
        "failed": [_brief(result) for result in run.results if result.status is Status.FAIL],
        "warned": [_brief(result) for result in run.results if result.status is Status.WARN],
    }
    if summary.failed:
        names = ", ".join(result.name for result in run.results if result.status is Status.FAIL)
        return GateVerdict(
            gate="check",
            verdict=Verdict.FAIL,
            message=f"check run {run.id}: {summary.failed} of {summary.total} failed ({names})",
            evidence=evidence,
        )
    return GateVerdict(
        gate="check",
        verdict=Verdict.PASS,
        message=f"check run {run.id}: {summary.passed} passed, {summary.warned} warned",
        evidence=evidence,
    )


def _brief(result: CheckResult) -> dict[str, Any]:
    return {"name": result.name, "message": result.message, "error": result.error}
