"""A release plan's ``backfill`` stage: starting its worker, and its verdict.

``backfill: {job: documents-to-es, verify: checksum}`` runs the job file
``<backfills_dir>/documents-to-es.yaml`` (or ``.yml``; ``RHEOSTAT_BACKFILLS_DIR``, ``./backfills``
by default), whose ``backfill:`` name must be the stage's ``job``. A backfill may take hours, so
the controller never runs it in its loop: for a tick's ``RunStage`` (or a later look that finds
the stage waiting with no worker) it starts a detached ``rheostat backfill run FILE --verify``
process (``start_backfill_stage``) and returns at once. The worker takes the job's lease in
the store, so a second start is refused harmlessly, and the engine resumes from its
checkpoint after a crash: "start it when nobody holds its lease" is safe to repeat.

The look (``backfill_stage_verdict``) reads only the stored job:

* completed, and verified with zero differences after the copy ended and since the stage
  started (or ``verify: none``) -> ``pass``, with rows, rate and the verify as evidence;
* failed since the stage started (a missing or invalid job file too: the controller records
  that as the job's failure), or a verify with differences -> ``fail``;
* a verify that could not run (it raised: the target table is gone, a database refused) ->
  ``error``, recorded by the worker as the job's failure: the plan counts error looks like a
  gate's and fails the stage at its ``error_limit``; until then the next look starts a
  worker again (an error may be transient), never one per tick without end;
* copying (a worker holds a live lease) -> ``inconclusive``, with ``active_at`` evidence (its
  last committed batch): the plan's ``inconclusive_timeout`` counts from there, so a copy of
  hours holds its stage while it makes progress (and a backfill stage is never advanced past);
* not started, stopped, failed before the stage started, its worker dead, or complete but not
  yet verified -> ``inconclusive`` with ``awaiting_run`` evidence, so the controller starts a
  worker; a job an operator ``paused`` holds until ``rheostat backfill resume``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from rheostat.backfill import load_job
from rheostat.errors import InvalidDefinition, ValidationError
from rheostat.rollout import BackfillStage, GateVerdict, Verdict
from rheostat.rollout.state import PlanState
from rheostat.service.backfills import record_backfill_problem
from rheostat.service.change import Change
from rheostat.store.database import SqlStore
from rheostat.store.records import BackfillRecord, PlanRecord
from rheostat.store.unit_of_work import UnitOfWork

__all__ = [
    "VERIFY_MODES",
    "StartedWorker",
    "backfill_job_path",
    "backfill_stage_verdict",
    "start_backfill_stage",
    "started_workers",
]

VERIFY_MODES = ("checksum", "none")
"""``checksum``: the stage passes only on a verify with zero differences; ``none``: on the copy."""
_SUFFIXES = (".yaml", ".yml")
_LIVE = ("running", "pausing")
_WORKER_CODE = "from rheostat.cli import main; main()"
_started: dict[str, subprocess.Popen[bytes]] = {}
"""The workers this process started, by job: reaped when they end, never started twice."""


@dataclass(frozen=True, slots=True)
class StartedWorker:
    """A worker process the controller started for a backfill stage (``pid`` ``None`` when
    the job file could not run: ``problem`` says why, and the job was marked failed)."""

    job: str
    path: Path
    pid: int | None
    log: Path | None = None
    problem: str | None = None


def backfill_job_path(backfills_dir: Path, job: str) -> Path:
    """The job file a stage's ``job`` names (``.yaml``, else ``.yml``, else the ``.yaml`` path)."""
    for suffix in _SUFFIXES:
        candidate = backfills_dir / f"{job}{suffix}"
        if candidate.is_file():
            return candidate
    return backfills_dir / f"{job}{_SUFFIXES[0]}"


def start_backfill_stage(
    store: SqlStore,
    record: PlanRecord,
    stage: int,
    *,
    backfills_dir: Path,
    environ: Mapping[str, str],
) -> StartedWorker | None:
    """Start the worker of backfill stage ``stage`` (0-based) of the plan ``record``, detached,
    and return at once; ``None`` when a worker this process started still runs the job.

    A job file that is missing, invalid, or names another job is recorded as the job's failure
    (the stage's look then fails the plan with the reason) and no process starts. Call it after
    the tick that asked for it has committed, with no transaction open.

    Raises:
        ValidationError: that stage is not a backfill stage.
    """
    stages = record.state.plan.stages
    if not 0 <= stage < len(stages) or not isinstance(stages[stage], BackfillStage):
        raise ValidationError(
            f"stage {stage + 1} of plan {record.name!r} is not a backfill stage",
            details={"plan": record.name, "stage": stage + 1},
        )
    backfill = stages[stage]
    assert isinstance(backfill, BackfillStage)  # noqa: S101  # checked just above
    name = backfill.job
    _reap()
    if name in _started:
        return None
    path = backfill_job_path(backfills_dir, name)
    problem = _problem(path, name, environ)
    if problem is not None:
        change = Change(actor="controller", reason=f"plan {record.name}: {problem}")
        with store.unit_of_work() as uow:
            record_backfill_problem(uow, name, error=problem, change=change)
        return StartedWorker(job=name, path=path, pid=None, problem=problem)
    command = [sys.executable, "-c", _WORKER_CODE, "backfill", "run", str(path), "--json"]
    if backfill.verify != "none":
        command.append("--verify")
    command += ["--actor", "controller"]
    log = path.with_suffix(".log")
    output = _log_file(log)
    try:
        process = subprocess.Popen(  # noqa: S603  # our own command, no shell
            command,
            stdin=subprocess.DEVNULL,
            stdout=output or subprocess.DEVNULL,
            stderr=subprocess.STDOUT if output else subprocess.DEVNULL,
            env={**environ, "RHEOSTAT_DATABASE_URL": store.url},  # not on the command line
            start_new_session=True,  # a controller stopped by Ctrl-C leaves the copy running
        )
    finally:
        if output is not None:
            output.close()
    _started[name] = process
    return StartedWorker(
        job=name, path=path, pid=process.pid, log=log if output is not None else None
    )


def _problem(path: Path, name: str, environ: Mapping[str, str]) -> str | None:
    if not path.is_file():
        return f"no backfill job file {path}"
    try:
        job = load_job(path, environ)
    except InvalidDefinition as error:
        return f"{path}: {error.message}"
    if job.name != name:
        return f"{path} names backfill {job.name!r}, the stage {name!r}"
    return None


def _log_file(path: Path) -> IO[bytes] | None:
    """The worker's log, appended next to its job file; ``None`` (no log) if it cannot be
    written (the job's status and error are in the store either way)."""
    try:
        return path.open("ab")
    except OSError:
        return None


def started_workers() -> dict[str, int]:
    """The workers this process started that still run: job name -> process id."""
    _reap()
    return {name: process.pid for name, process in _started.items()}


def _reap() -> None:
    """Forget (and reap) the workers this process started that have ended."""
    for name, process in list(_started.items()):
        if process.poll() is not None:
            del _started[name]


def backfill_stage_verdict(uow: UnitOfWork, state: PlanState, now: datetime) -> GateVerdict:
    """The outcome of the plan's current backfill stage, from its job in the store."""
    stage = state.plan.stages[state.stage]
    if not isinstance(stage, BackfillStage):
        raise ValidationError(f"stage {state.stage + 1} is not a backfill stage")
    since = state.stage_started_at or now
    number = state.stage + 1
    if stage.verify not in VERIFY_MODES:
        return _verdict(
            Verdict.FAIL,
            f"stage {number}: verify {stage.verify!r} is not one of {', '.join(VERIFY_MODES)}",
            {"backfill": stage.job},
        )
    record = uow.backfills.find(stage.job)
    if record is None:
        return _waiting(f"stage {number}: backfill {stage.job} has not started", stage.job)
    return _job_verdict(record, stage, number=number, since=since, now=now)


def _job_verdict(
    record: BackfillRecord, stage: BackfillStage, *, number: int, since: datetime, now: datetime
) -> GateVerdict:
    evidence = _evidence(record)
    status = record.status
    if status in _LIVE and _held(record, now):
        done = f"{record.rows_done:,}" + (
            "" if record.rows_total is None else f" of {record.rows_total:,}"
        )
        return _verdict(
            Verdict.INCONCLUSIVE,
            f"stage {number}: backfill {record.name} is copying ({done} rows)",
            evidence,
        )
    if status == "paused":
        return _verdict(
            Verdict.INCONCLUSIVE,
            f"stage {number}: backfill {record.name} was paused; "
            "`rheostat backfill resume` continues it",
            evidence,
        )
    verify_error = None if record.verify is None else record.verify.get("error")
    if status == "failed" and verify_error is not None and record.updated_at >= since:
        in_a_row = record.verify.get("errors_in_a_row", 1) if record.verify else 1
        return _verdict(
            Verdict.ERROR,
            f"backfill {record.name}: its verify could not run ({in_a_row} in a row): "
            f"{verify_error}",
            # run again (an error may be transient): the plan's error_limit bounds the tries
            {**evidence, "awaiting_run": True},
        )
    if status == "failed" and record.updated_at >= since:
        return _verdict(
            Verdict.FAIL, f"backfill {record.name} failed: {record.error or 'no reason'}", evidence
        )
    if status != "completed":
        return _waiting(f"stage {number}: backfill {record.name} is {status}", record.name)
    if stage.verify == "none":
        return _verdict(Verdict.PASS, _copied(record), evidence)
    verify = record.verify
    if verify is None or not _fresh(verify, record, since):
        return _waiting(
            f"stage {number}: backfill {record.name} is complete, waiting for its verify",
            record.name,
        )
    if verify.get("identical") is True:
        return _verdict(Verdict.PASS, f"{_copied(record)}, verified identical", evidence)
    differences = verify.get("differences")
    count = len(differences) if isinstance(differences, list) else "some"
    return _verdict(
        Verdict.FAIL,
        f"backfill {record.name}: verify found {count} differing key range(s) "
        f"(source {verify.get('source_rows')} rows, target {verify.get('target_rows')}); "
        "cut-over refused",
        evidence,
    )


def _waiting(message: str, job: str) -> GateVerdict:
    return _verdict(Verdict.INCONCLUSIVE, message, {"backfill": job, "awaiting_run": True})


def _verdict(verdict: Verdict, message: str, evidence: dict[str, Any]) -> GateVerdict:
    return GateVerdict(gate="backfill", verdict=verdict, message=message, evidence=evidence)


def _copied(record: BackfillRecord) -> str:
    return (
        f"backfill {record.name} copied {record.rows_done:,} rows "
        f"({record.rows_per_second:,.0f} rows/s)"
    )


def _evidence(record: BackfillRecord) -> dict[str, Any]:
    verify = None if record.verify is None else dict(record.verify)
    if verify is not None:
        for part in (verify, verify.get("after_repair") or {}):
            if isinstance(part, dict) and isinstance(part.get("differences"), list):
                part["differences"] = part["differences"][:10]
    return {
        "backfill": record.name,
        "status": record.status,
        "rows_done": record.rows_done,
        "rows_total": record.rows_total,
        "rows_per_second": record.rows_per_second,
        "batches": record.batches,
        "worker": record.lease_owner,
        "error": record.error,
        "verify": verify,
        # the job's last change (a committed batch, its end, a verify): the plan's
        # inconclusive deadline counts from there, not from when the stage was first held
        "active_at": record.updated_at.isoformat(),
    }


def _fresh(verify: Mapping[str, Any], record: BackfillRecord, since: datetime) -> bool:
    """A verify made since the stage started and after the copy ended."""
    try:
        at = datetime.fromisoformat(str(verify.get("verified_at")))
    except ValueError:
        return False
    finished = record.finished_at
    return at >= since and (finished is None or at >= finished)


def _held(record: BackfillRecord, now: datetime) -> bool:
    """A worker holds the job: its lease has not run out, and it is not a process of this
    host that has ended (a SIGKILLed worker's job is started again at once)."""
    if record.lease_owner is None or record.lease_expires_at is None:
        return False
    if record.lease_expires_at <= now:
        return False
    _reap()
    host, _, pid = record.lease_owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    return _process_alive(int(pid))


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    with contextlib.suppress(OSError):  # a zombie (ended, not yet reaped) is dead
        fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rpartition(")")[2].split()
        return not fields or fields[0] != "Z"
    return True
