"""Table migrations: stage flags, parity runs stored, gate metrics recorded, alerts raised.

``record_parity_run`` takes a ``ParityReport`` measured by ``rheostat.runner.parity`` and,
in the caller's transaction:

* stores it (``migration_parity_runs``: ``/health`` shows each migration's newest);
* records it as metric windows of every stage flag of the migration (variant ``on``), so a
  release plan ramping ``migrate.<m>.live`` reads it with a threshold gate:
  ``parity_row_delta`` (the table's absolute row delta), ``parity_group_delta`` (the worst
  group's), ``parity_level`` (0 ok, 1 drift, 2 warning, 3 critical) and
  ``parity_checksum_mismatch`` (a proportion: the table's checksums differ);
* raises the alert ``migration.parity`` about ``migration:<m>`` at ``warning`` or
  ``critical`` (seed 003's table), updates its severity, and resolves it once parity is back
  to ``ok`` or ``drift``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rheostat.errors import ValidationError
from rheostat.inputs import validate_lookup
from rheostat.metrics import MetricWindow, WindowKind
from rheostat.migrate import (
    ParityLevel,
    ParityReport,
    stage_flag_definitions,
    stage_flag_keys,
)
from rheostat.service.alerts import raise_alert, resolve_alerts_about
from rheostat.service.change import Change
from rheostat.service.flags import create_flag, find_flag
from rheostat.service.metric_windows import record_metric_windows
from rheostat.store.migration_tables import ParityRunRecord
from rheostat.store.operations_records import AlertSeverity
from rheostat.store.unit_of_work import UnitOfWork

__all__ = [
    "PARITY_ALERT",
    "PARITY_METRICS",
    "define_stage_flags",
    "latest_parity_runs",
    "list_parity_runs",
    "parity_run_data",
    "record_parity_run",
]

PARITY_ALERT = "migration.parity"
PARITY_METRICS = (
    "parity_row_delta",
    "parity_group_delta",
    "parity_level",
    "parity_checksum_mismatch",
)
_WINDOW_SECONDS = 1
"""A parity run is one reading at its moment: a window that starts then (a gate counts the
windows that start within its stage)."""
_MAX_LIMIT = 1000
_KEPT_GROUPS = 100
_SEVERITY: Mapping[ParityLevel, AlertSeverity] = {
    ParityLevel.WARNING: AlertSeverity.WARNING,
    ParityLevel.CRITICAL: AlertSeverity.CRITICAL,
}


def record_parity_run(
    uow: UnitOfWork, environment: str, report: ParityReport, *, change: Change
) -> ParityRunRecord:
    """Store the run, record its gate metrics and raise or resolve its alert.

    Raises:
        NotFound: no such environment. ValidationError: a migration name that is no key.
    """
    validate_lookup(environment=environment, flag=f"migrate.{report.migration}")
    uow.environments.get(environment)
    document = report.to_dict()
    document["groups"] = document["groups"][:_KEPT_GROUPS]
    run = uow.parity_runs.add(
        ParityRunRecord(
            id=0,
            environment=environment,
            migration=report.migration,
            level=report.level.value,
            action=report.action.value,
            actor=change.actor,
            measured_at=uow.now,
            report=document,
        )
    )
    record_metric_windows(uow, environment, _windows(run, report))
    _alert(uow, environment, run, report)
    return run


def list_parity_runs(
    uow: UnitOfWork, environment: str, migration: str | None = None, *, limit: int = 20
) -> list[ParityRunRecord]:
    """The environment's parity runs, newest first.

    Raises:
        NotFound: no such environment. ValidationError: ``limit`` outside 1..1000.
    """
    _check_limit(limit)
    validate_lookup(environment=environment)
    uow.environments.get(environment)
    return uow.parity_runs.list(environment, migration, limit=limit)


def latest_parity_runs(uow: UnitOfWork, *, limit: int = 100) -> list[ParityRunRecord]:
    """The newest run of every migration in every environment (what ``/health`` shows)."""
    _check_limit(limit)
    return uow.parity_runs.latest(limit=limit)


def parity_run_data(run: ParityRunRecord, *, groups: bool = True) -> dict[str, Any]:
    """A run as JSON (the API, ``--json``, ``/health`` without the groups)."""
    report = dict(run.report)
    if not groups:
        report.pop("groups", None)
        report.pop("table", None)
    return {
        "id": run.id,
        "environment": run.environment,
        "measured_at": run.measured_at.isoformat(),
        "actor": run.actor,
        **report,
    }


def define_stage_flags(
    uow: UnitOfWork, environment: str, migration: str, *, change: Change
) -> list[str]:
    """Create the migration's stage flags that do not exist yet (all off); return the keys
    created. Existing flags are left as they are.

    Raises:
        NotFound: no such environment. ValidationError: a name that makes no flag key.
    """
    created = []
    for key, definition in stage_flag_definitions(migration).items():
        if find_flag(uow, environment, key) is None:
            create_flag(uow, environment, key, definition, change=change)
            created.append(key)
    return created


def _windows(run: ParityRunRecord, report: ParityReport) -> list[MetricWindow]:
    values: dict[str, tuple[WindowKind, float]] = {
        "parity_row_delta": (WindowKind.MEAN, float(abs(report.table.row_delta))),
        "parity_group_delta": (WindowKind.MEAN, float(report.worst_group_delta)),
        "parity_level": (WindowKind.MEAN, float(report.level.rank)),
        "parity_checksum_mismatch": (
            WindowKind.PROPORTION,
            float(not report.table.checksum_matches),
        ),
    }
    windows = []
    for flag in stage_flag_keys(report.migration).values():
        for metric, (kind, value) in values.items():
            proportion = kind is WindowKind.PROPORTION
            windows.append(
                MetricWindow(
                    id=f"parity-{run.id}-{flag}-{metric}",
                    flag=flag,
                    variant="on",
                    metric=metric,
                    start=run.measured_at,
                    seconds=_WINDOW_SECONDS,
                    kind=kind,
                    n=1,
                    successes=int(value) if proportion else None,
                    sum=None if proportion else value,
                    sum_squares=None if proportion else value * value,
                )
            )
    return windows


def _alert(uow: UnitOfWork, environment: str, run: ParityRunRecord, report: ParityReport) -> None:
    subject = f"migration:{report.migration}"
    severity = _SEVERITY.get(report.level)
    if severity is None:
        resolve_alerts_about(
            uow, environment, subject, kinds=[PARITY_ALERT], why=f"parity {report.level.value}"
        )
        return
    table = report.table
    message = (
        f"migration {report.migration}: parity {report.level.value}: row delta"
        f" {table.row_delta} (old {table.old.rows}, new {table.new.rows})"
        f"{'' if table.checksum_matches else ', checksums differ'}"
    )
    if report.critical_groups:
        message += f"; critical groups: {', '.join(report.critical_groups[:10])}"
    message += f"; action: {report.action.value}"
    evidence = parity_run_data(run, groups=False)
    firing = uow.alerts.firing(environment, PARITY_ALERT, subject)
    if firing is not None and firing.severity is severity:  # no new alert.firing event
        uow.alerts.update(firing.id, at=uow.now, message=message, evidence=evidence)
        return
    raise_alert(
        uow,
        environment,
        kind=PARITY_ALERT,
        severity=severity,
        subject=subject,
        message=message,
        evidence=evidence,
    )


def _check_limit(limit: int) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= _MAX_LIMIT:
        raise ValidationError(
            f"limit must be an integer from 1 to {_MAX_LIMIT}", details={"field": "limit"}
        )
