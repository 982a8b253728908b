"""Running a check suite and storing it as a check run; reading runs back.

``run_checks`` takes the ``SqlStore``, not a unit of work: a suite runs for up to its longest
timeout, and holding a transaction (on SQLite, the write lock) that long would stall every
writer. Its checks open their own read-only transactions in their threads; the finished run
is then stored in one short transaction of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from rheostat.checks import CheckResult, CheckRun, Registry, Suite, read_suite, run_suite
from rheostat.errors import InvalidDefinition, NotFound
from rheostat.inputs import MAX_ROW_ID, validate_actor, validate_number
from rheostat.service.check_probes import check_registry
from rheostat.store.database import SqlStore
from rheostat.store.unit_of_work import UnitOfWork

__all__ = [
    "RunOrigin",
    "get_check_run",
    "list_check_runs",
    "load_suite_file",
    "record_check_run",
    "run_checks",
]

MAX_PAGE = 200


@dataclass(frozen=True, slots=True, kw_only=True)
class RunOrigin:
    """Who runs a suite, and for which plan stage (``stage`` 0-based) if any."""

    source: str
    actor: str
    environment: str | None = None
    plan: str | None = None
    stage: int | None = None


def load_suite_file(path: Path, *, environ: Mapping[str, str]) -> Suite:
    """Read a suite file; ``${VAR}`` comes from ``environ``.

    Raises:
        NotFound: no such file. InvalidDefinition: not a valid suite; the message starts with
            the file and the path in it (``suite.yaml: checks[2].url: ...``).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFound(f"no suite file at {path}", details={"file": str(path)}) from None
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidDefinition("", f"{path}: cannot be read: {error}") from None
    try:
        return read_suite(text, environ=environ)
    except InvalidDefinition as error:
        where = f"{error.path}: " if error.path else ""
        raise InvalidDefinition(error.path, f"{path}: {where}{error.reason}") from None


def run_checks(
    store: SqlStore,
    suite: Suite,
    *,
    origin: RunOrigin,
    registry: Registry | None = None,
    problems: tuple[CheckResult, ...] = (),
    record: bool = True,
) -> CheckRun:
    """Run every check of ``suite`` at once, then store the run (one transaction) and return it.

    Args:
        registry: the probes; every built-in kind on ``store`` by default.
        problems: results known before running (a plan stage's missing suite file), stored
            first in the run.
        record: ``False`` returns the run unstored (id 0); the caller may store it with
            ``record_check_run`` (the CLI does, so that a database it cannot write to does
            not hide the checks' results).

    Raises:
        ValidationError: a bad actor. StorageError: the run could not be stored.
    """
    validate_actor(origin.actor, None)
    started = store.clock.now()
    results = run_suite(suite, registry or check_registry(store), monotonic=store.clock.monotonic)
    run = CheckRun(
        suite=suite.name,
        document=suite.to_document(),
        results=(*problems, *results),
        source=origin.source,
        actor=origin.actor,
        environment=origin.environment,
        plan=origin.plan,
        stage=origin.stage,
        started_at=started,
        finished_at=store.clock.now(),
    )
    if not record:
        return run
    with store.unit_of_work() as uow:
        return record_check_run(uow, run)


def record_check_run(uow: UnitOfWork, run: CheckRun) -> CheckRun:
    """Store a finished run in ``uow``'s transaction; return it with its id."""
    validate_actor(run.actor, None)
    return uow.check_runs.add(run)


def get_check_run(uow: UnitOfWork, run_id: int) -> CheckRun:
    """The run. Raises ``NotFound``, or ``ValidationError`` for an id out of range."""
    validate_number(run_id, "id", minimum=1, maximum=MAX_ROW_ID)
    found = uow.check_runs.get(run_id)
    if found is None:
        raise NotFound(f"check run {run_id} does not exist", details={"id": run_id})
    return found


def list_check_runs(
    uow: UnitOfWork, *, limit: int = 50, before: int | None = None
) -> list[CheckRun]:
    """The newest runs first (``before``: only ids below it, to page back).

    Raises:
        ValidationError: ``limit`` outside 1..200 or ``before`` out of range.
    """
    validate_number(limit, "limit", minimum=1, maximum=MAX_PAGE)
    if before is not None:
        validate_number(before, "before", minimum=1, maximum=MAX_ROW_ID)
    return uow.check_runs.list(limit=limit, before=before)
