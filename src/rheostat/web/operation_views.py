"""What the operations pages show: backfill jobs, check runs, the audit log, the reach of a
flag's latest change and health (pure)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rheostat.checks.model import CheckRun
from rheostat.service import AuditEvent, Health, Reach

__all__ = [
    "AuditRow",
    "BackfillRow",
    "CheckRunRow",
    "HealthView",
    "ReachRow",
    "audit_rows",
    "backfill_row",
    "check_run_row",
    "eta_text",
    "health_view",
    "reach_row",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class BackfillRow:
    """One backfill job: how far, how fast, how long still, and whether the copy verified."""

    name: str
    status: str
    strategy: str
    percent: float | None
    rows: str
    rate: str
    eta: str
    verify: str
    verify_ok: bool | None
    error: str
    is_live: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckRunRow:
    """One stored run of a check suite."""

    id: int
    suite: str
    status: str
    counts: str
    source: str
    actor: str
    plan: str
    finished_at: str
    results: tuple[tuple[str, str, str], ...]
    """``(name, status, message)`` of each check."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditRow:
    """One audit event."""

    id: int
    at: str
    actor: str
    action: str
    environment: str
    subject: str
    reason: str
    change: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReachRow:
    """How far one flag's latest change reached the live SDK processes."""

    flag: str
    revision: int
    live: int
    applied: int
    pending: tuple[str, ...]
    complete: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class HealthView:
    """The health page."""

    status: str
    database: str
    error: str
    killed: tuple[tuple[str, str], ...]
    """``(environment, flag)`` of every kill switch engaged."""
    running_plans: tuple[Mapping[str, Any], ...]
    firing_alerts: tuple[Mapping[str, Any], ...]
    running_rollbacks: int


_LIVE_BACKFILLS = frozenset({"running", "pending", "pausing"})


def eta_text(seconds: float | None) -> str:
    """``3725`` -> ``1h 2m``; ``—`` when unknown."""
    if seconds is None:
        return "—"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s" if minutes else f"{secs}s"


def backfill_row(document: Mapping[str, Any]) -> BackfillRow:
    """A row from ``service.backfill_status_document``."""
    total = document.get("rows_total")
    done = int(document.get("rows_done") or 0)
    rate = document.get("rows_per_second")
    verify = document.get("verify")
    return BackfillRow(
        name=str(document["name"]),
        status=str(document["status"]),
        strategy=str(document.get("strategy") or ""),
        percent=document.get("percent"),
        rows=f"{done:,}" + ("" if total is None else f" / {int(total):,}"),
        rate="—" if rate is None else f"{rate:,.0f} rows/s",
        eta=eta_text(document.get("eta_seconds")),
        verify=_verify_text(verify),
        verify_ok=None if not verify else bool(document.get("verified")),
        error=str(document.get("error") or ""),
        is_live=document.get("status") in _LIVE_BACKFILLS,
    )


def _verify_text(verify: Mapping[str, Any] | None) -> str:
    if not verify:
        return "not verified yet"
    if verify.get("identical"):
        return "identical: " + _compact(verify, skip={"identical"})
    return "DIFFERENT: " + _compact(verify, skip={"identical"})


def check_run_row(run: CheckRun) -> CheckRunRow:
    """A row from a stored check run."""
    summary = run.summary
    return CheckRunRow(
        id=run.id,
        suite=run.suite,
        status=summary.status.value,
        counts=f"{summary.passed} pass, {summary.warned} warn, {summary.failed} fail",
        source=run.source,
        actor=run.actor,
        plan="" if run.plan is None else f"{run.environment}/{run.plan}",
        finished_at=run.finished_at.strftime("%Y-%m-%d %H:%M:%S"),
        results=tuple((r.name, r.status.value, r.message) for r in run.results),
    )


def audit_rows(events: Sequence[AuditEvent]) -> list[AuditRow]:
    """Rows of the audit log, newest first as given."""
    return [
        AuditRow(
            id=event.id,
            at=event.at.strftime("%Y-%m-%d %H:%M:%S"),
            actor=event.actor,
            action=str(event.action),
            environment=event.environment or "",
            subject=event.subject,
            reason=event.reason or "",
            change=_change_text(event.before, event.after),
        )
        for event in events
    ]


def _change_text(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> str:
    if before is not None and after is not None:
        changed = {k: after.get(k) for k in after if before.get(k) != after.get(k)}
        return _compact(changed, skip=set()) if changed else "no field changed"
    shown = after if after is not None else before
    return "" if shown is None else _compact(shown, skip=set())


def _compact(values: Mapping[str, Any], *, skip: set[str], limit: int = 160) -> str:
    text = ", ".join(
        f"{name}={json.dumps(value, default=str, sort_keys=True)}"
        for name, value in values.items()
        if name not in skip
    )
    return text if len(text) <= limit else text[: limit - 1] + "…"


def reach_row(reach: Reach) -> ReachRow:
    """A row from ``service.flag_reach``."""
    return ReachRow(
        flag=reach.flag,
        revision=reach.revision,
        live=reach.live,
        applied=reach.applied,
        pending=tuple(f"{p.hostname}:{p.pid} ({p.sdk}, at {p.revision})" for p in reach.pending),
        complete=reach.applied == reach.live,
    )


def health_view(health: Health) -> HealthView:
    """The health page from ``service.check_health``."""
    killed = tuple(
        (environment, flag)
        for environment, flags in sorted(health.kill_switches.items())
        for flag, engaged in sorted(flags.items())
        if engaged
    )
    return HealthView(
        status=health.status.value,
        database=health.database,
        error=health.error or "",
        killed=killed,
        running_plans=health.running_plans,
        firing_alerts=health.firing_alerts,
        running_rollbacks=health.running_rollbacks,
    )
