"""A release plan's check gates: running their suites, and the verdict a look reads.

``gates: [{name: preflight, checks: [schema, backups], every: 1m}]`` names checks as a
``check`` stage does (``check_stages``: plan checks, or suite files in the checks folder).
The suites run the way a check stage's does, so that a look never waits on them:

* after a controller pass's tick has committed, with no transaction open,
  ``run_gate_checks`` runs the gates that are due (``rollout.check_gates.due_check_gates``:
  exposure is on and the gate has not run for ``every``) and stores each as a check run of
  the plan, without a stage, its suite named after the gate;
* each look (``check_gate_verdict``, reads only) judges the newest such run since the stage
  began: ``fail`` with the failed checks as evidence, ``pass`` when none failed, and
  ``no_data`` while there is none (the plan's no-data policy applies; never a pass).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from rheostat.checks import CheckResult, CheckRun, Status
from rheostat.rollout import CheckGate, GateVerdict, Verdict
from rheostat.rollout.check_gates import check_gate_since, due_check_gates
from rheostat.rollout.state import PlanState
from rheostat.service.check_runs import RunOrigin, run_checks
from rheostat.service.check_stages import named_suite
from rheostat.store.database import SqlStore
from rheostat.store.records import PlanRecord
from rheostat.store.unit_of_work import UnitOfWork

__all__ = ["check_gate_verdict", "run_gate_checks"]


def run_gate_checks(
    store: SqlStore,
    record: PlanRecord,
    *,
    now: datetime | None = None,
    checks_dir: Path,
    environ: Mapping[str, str],
) -> list[CheckRun]:
    """Run the suites of the plan's check gates that are due at ``now`` (the store's clock by
    default) and store each run; return the stored runs, in the plan's gate order.

    ``record`` is the plan as the pass's tick left it. Call this with no transaction open:
    a suite runs up to its longest timeout, and each run is stored in a short transaction of
    its own.
    """
    state = record.state
    gates = [gate for gate in state.plan.gates if isinstance(gate, CheckGate)]
    if not gates:
        return []
    at = now or store.clock.now()
    with store.reading() as uow:
        last_runs = {
            gate.name: run.started_at
            for gate in gates
            if (run := uow.check_runs.latest_for_gate(record.environment, record.name, gate.name))
            is not None
        }
    return [
        _run_gate(store, record, gate, checks_dir=checks_dir, environ=environ)
        for gate in due_check_gates(state, last_runs, at)
    ]


def _run_gate(
    store: SqlStore,
    record: PlanRecord,
    gate: CheckGate,
    *,
    checks_dir: Path,
    environ: Mapping[str, str],
) -> CheckRun:
    suite, problems = named_suite(
        gate.checks,
        suite=gate.name,
        environment=record.environment,
        plan=record.name,
        checks_dir=checks_dir,
        environ=environ,
    )
    origin = RunOrigin(
        source="plan", actor="controller", environment=record.environment, plan=record.name
    )
    return run_checks(store, suite, origin=origin, problems=problems)


def check_gate_verdict(
    uow: UnitOfWork, state: PlanState, gate: CheckGate, now: datetime
) -> GateVerdict:
    """The gate's look: its newest stored run since the stage began (reads only)."""
    plan = state.plan
    since = check_gate_since(state) or now
    rule = f"checks {', '.join(gate.checks)} pass"
    base: dict[str, Any] = {"rule": rule, "since": since.isoformat(), "at": now.isoformat()}
    run = uow.check_runs.latest_for_gate(plan.environment, plan.name, gate.name, since=since)
    if run is None:
        return GateVerdict(
            gate=gate.name,
            verdict=Verdict.NO_DATA,
            message=f"no run of its checks since {since.isoformat()} yet: {rule}",
            evidence=base,
        )
    summary = run.summary
    failed = [result for result in run.results if result.status is Status.FAIL]
    evidence = base | {
        "check_run": run.id,
        "ran_at": run.started_at.isoformat(),
        "summary": summary.to_document(),
        "failed": [_brief(result) for result in failed],
        "warned": [_brief(result) for result in run.results if result.status is Status.WARN],
    }
    if failed:
        names = ", ".join(result.name for result in failed)
        return GateVerdict(
            gate=gate.name,
            verdict=Verdict.FAIL,
            message=f"check run {run.id}: {summary.failed} of {summary.total} failed ({names})",
            evidence=evidence,
        )
    return GateVerdict(
        gate=gate.name,
        verdict=Verdict.PASS,
        message=f"check run {run.id}: {summary.passed} passed, {summary.warned} warned",
        evidence=evidence,
    )


def _brief(result: CheckResult) -> dict[str, Any]:
    return {"name": result.name, "message": result.message, "error": result.error}
