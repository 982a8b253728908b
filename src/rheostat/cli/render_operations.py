"""Pure ``format_*`` functions for rollbacks, webhooks and alerts (Rich renderables)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.table import Table
from rich.text import Text

from rheostat.service import AlertRecord, RollbackRecord, Webhook, WebhookDelivery

__all__ = [
    "format_alerts",
    "format_deliveries",
    "format_rollback",
    "format_rollbacks",
    "format_webhooks",
]

_STATUS_STYLES = {
    "completed": "green",
    "running": "yellow",
    "cancelled": "dim",
    "delivered": "green",
    "pending": "yellow",
    "failed": "bold red",
    "firing": "bold red",
    "resolved": "green",
    "critical": "bold red",
    "warning": "yellow",
}


def _exposure(facts: Mapping[str, Any]) -> str:
    if facts.get("enabled") is False:
        return "off (kill switch)"
    if "restored_version" in facts:
        return f"version {facts['restored_version']} (as v{facts.get('version')})"
    if "off_for" in facts:
        off = facts["off_for"]
        named = [f"{len(off.get(k, []))} {k}" for k in ("users", "groups", "orgs") if off.get(k)]
        return "off for " + ", ".join(named)
    if "percent" in facts:
        return f"{facts['percent']:g}%"
    return "-"


def format_rollback(record: RollbackRecord) -> Text:
    """``hybrid_search rolled back (gradual) in production: 40% -> 30%, next step at ...``."""
    line = Text()
    line.append(record.flag, style="bold")
    line.append(f" rolled back ({record.mode.value}) in ")
    line.append(record.environment, style="bold magenta")
    line.append(f": {_exposure(record.details.get('from', {}))} -> ")
    line.append(_exposure(record.details.get("to", {})), style="bold")
    line.append(f"  [{record.status.value}]", style=_STATUS_STYLES.get(record.status.value, ""))
    if record.next_step_at is not None:
        left = ", ".join(f"{s:g}%" for s in record.details.get("steps", []))
        line.append(f"\n  next step at {record.next_step_at.isoformat()} (left: {left} of it)")
    stopped = record.details.get("plans_stopped", [])
    if stopped:
        line.append(f"\n  release plans stopped: {', '.join(stopped)}", style="yellow")
    return line


def format_rollbacks(records: Sequence[RollbackRecord], *, title: str) -> Table:
    """The history: when, who, mode, from, to, status, why."""
    table = Table(title=title)
    for column in ("id", "started", "who", "mode", "from", "to", "status", "reason"):
        table.add_column(column)
    for record in records:
        table.add_row(
            str(record.id),
            record.started_at.isoformat(timespec="seconds"),
            record.actor,
            record.mode.value,
            _exposure(record.details.get("from", {})),
            _exposure(record.details.get("to", {})),
            Text(record.status.value, style=_STATUS_STYLES.get(record.status.value, "")),
            record.reason or "",
        )
    return table


def format_webhooks(webhooks: Sequence[Webhook]) -> Table:
    """The webhooks (never their secrets)."""
    table = Table(title="webhooks")
    for column in ("id", "url", "events", "environment", "created"):
        table.add_column(column)
    for webhook in webhooks:
        table.add_row(
            webhook.id,
            webhook.url,
            ", ".join(webhook.events) or "all",
            webhook.environment or "all",
            webhook.created_at.isoformat(timespec="seconds"),
        )
    return table


def format_deliveries(deliveries: Sequence[WebhookDelivery], *, title: str) -> Table:
    """The delivery log: one row per delivery, its attempts' statuses."""
    table = Table(title=title)
    for column in ("id", "event", "status", "attempts", "codes", "last error"):
        table.add_column(column)
    for delivery in deliveries:
        codes = " ".join(str(a.status_code or "-") for a in delivery.log)
        table.add_row(
            str(delivery.id),
            delivery.event_type,
            Text(delivery.status.value, style=_STATUS_STYLES.get(delivery.status.value, "")),
            str(delivery.attempts),
            codes,
            delivery.last_error or "",
        )
    return table


def format_alerts(alerts: Sequence[AlertRecord]) -> Table:
    """Alerts: when, severity, status, what, message."""
    table = Table(title="alerts")
    for column in ("id", "since", "environment", "severity", "status", "kind", "message"):
        table.add_column(column)
    for alert in alerts:
        table.add_row(
            str(alert.id),
            alert.started_at.isoformat(timespec="seconds"),
            alert.environment,
            Text(alert.severity.value, style=_STATUS_STYLES.get(alert.severity.value, "")),
            Text(alert.status.value, style=_STATUS_STYLES.get(alert.status.value, "")),
            alert.kind,
            alert.message,
        )
    return table
