"""Alerts: rules over metric windows (seed 003's warning/critical table), and plans' alerts.

``evaluate_alerts(uow)`` looks at every environment's rules once (the controller loop calls
it each round): a rule crossing a threshold fires an alert (stored, ``alert.firing`` sent to
webhooks), a change of severity updates it, and a rule back within bounds resolves it
(``alert.resolved``). Too little data changes nothing. A release plan's alerts (paused,
rolled back, stale, a gate without data) are stored by ``raise_alert`` in the tick's
transaction; a plan's pause and stale alerts resolve when it moves on again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rheostat.errors import NotFound, ValidationError
from rheostat.inputs import MAX_ROW_ID, validate_lookup, validate_number
from rheostat.metrics import WindowKind, WindowTotals
from rheostat.metrics.alert_rules import (
    AlertRule,
    RuleAssessment,
    assess_rule,
    parse_alert_rules,
    rule_to_dict,
)
from rheostat.service.audit import record_audit
from rheostat.service.change import Change
from rheostat.service.events import emit_event
from rheostat.store.operations_records import (
    AlertRecord,
    AlertRulesRecord,
    AlertSeverity,
    AlertStatus,
)
from rheostat.store.records import AuditAction
from rheostat.store.unit_of_work import UnitOfWork

__all__ = [
    "alert_data",
    "evaluate_alerts",
    "firing_alerts",
    "get_alert_rules",
    "list_alerts",
    "raise_alert",
    "resolve_alert",
    "resolve_alerts_about",
    "set_alert_rules",
]

_MAX_LIMIT = 1000


def set_alert_rules(
    uow: UnitOfWork, environment: str, document: Mapping[str, Any], *, change: Change
) -> AlertRulesRecord:
    """Replace the environment's alert rules with ``document`` (validated whole).

    Raises:
        NotFound: no such environment. InvalidDefinition: naming the bad field's path.
    """
    validate_lookup(environment=environment)
    uow.environments.get(environment, lock=True)
    rules = parse_alert_rules(document)
    canonical = {"rules": [rule_to_dict(rule) for rule in rules]}
    before = uow.alerts.rules(environment)
    stored = uow.alerts.put_rules(environment, canonical, at=uow.now, by=change.actor)
    record_audit(
        uow,
        AuditAction.ALERT_RULES_SET,
        subject=f"alert_rules:{environment}",
        environment=environment,
        states=(None if before is None else dict(before.document), canonical),
        change=change,
    )
    return stored


def get_alert_rules(uow: UnitOfWork, environment: str) -> AlertRulesRecord:
    """The environment's alert rules (``{"rules": []}`` at version 0 when none were set).

    Raises:
        NotFound: no such environment.
    """
    validate_lookup(environment=environment)
    found = uow.environments.get(environment)
    stored = uow.alerts.rules(environment)
    if stored is not None:
        return stored
    return AlertRulesRecord(
        environment=environment,
        document={"rules": []},
        version=0,
        updated_at=found.updated_at,
        updated_by="",
    )


def evaluate_alerts(uow: UnitOfWork) -> list[AlertRecord]:
    """Judge every environment's rules over their windows ending at ``uow.now``; return the
    alerts that fired, changed severity or resolved."""
    changed: list[AlertRecord] = []
    for stored in uow.alerts.all_rules():
        try:
            uow.environments.get(stored.environment)
        except NotFound:
            continue  # the environment was deleted; its rules wait for nothing
        for rule in parse_alert_rules(stored.document):
            updated = _evaluate(uow, stored.environment, rule)
            if updated is not None:
                changed.append(updated)
    return changed


def raise_alert(  # noqa: PLR0913  # uow, environment, then the alert's keyword-only facts
    uow: UnitOfWork,
    environment: str,
    *,
    kind: str,
    severity: AlertSeverity,
    subject: str,
    message: str,
    evidence: Mapping[str, Any] | None = None,
) -> AlertRecord:
    """Store a firing alert (or update the one already firing for ``kind`` and ``subject``)
    and send ``alert.firing``, in ``uow``'s transaction."""
    facts = dict(evidence or {})
    firing = uow.alerts.firing(environment, kind, subject)
    if firing is None:
        alert = uow.alerts.add(
            AlertRecord(
                id=0,
                environment=environment,
                kind=kind,
                subject=subject,
                severity=severity,
                status=AlertStatus.FIRING,
                message=message,
                evidence=facts,
                started_at=uow.now,
                updated_at=uow.now,
            )
        )
    else:
        alert = uow.alerts.update(
            firing.id, at=uow.now, severity=severity, message=message, evidence=facts
        )
    emit_event(uow, "alert.firing", environment=environment, data=alert_data(alert))
    return alert


def resolve_alerts_about(
    uow: UnitOfWork, environment: str, subject: str, *, kinds: Sequence[str], why: str
) -> list[AlertRecord]:
    """Resolve the firing alerts of these ``kinds`` about ``subject`` (``alert.resolved``)."""
    resolved = []
    for kind in kinds:
        firing = uow.alerts.firing(environment, kind, subject)
        if firing is not None:
            resolved.append(_resolve(uow, firing, why))
    return resolved


def resolve_alert(uow: UnitOfWork, alert_id: int, *, change: Change) -> AlertRecord:
    """Resolve an alert by hand (a rollback alert stays firing until someone does).

    Raises:
        NotFound: no such alert. ValidationError: it is not firing.
    """
    validate_number(alert_id, "alert", minimum=1, maximum=MAX_ROW_ID)
    alert = uow.alerts.get(alert_id)
    if alert.status is not AlertStatus.FIRING:
        raise ValidationError(f"alert {alert_id} is already resolved", details={"alert": alert_id})
    resolved = _resolve(uow, alert, f"resolved by {change.actor}")
    record_audit(
        uow,
        AuditAction.ALERT_RESOLVED,
        subject=f"alert:{alert_id}",
        environment=alert.environment,
        states=({"status": "firing"}, {"status": "resolved"}),
        change=change,
    )
    return resolved


def list_alerts(
    uow: UnitOfWork,
    *,
    environment: str | None = None,
    status: AlertStatus | None = None,
    limit: int = 100,
) -> list[AlertRecord]:
    """Alerts, newest first.

    Raises:
        ValidationError: ``limit`` outside 1..1000.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= _MAX_LIMIT:
        raise ValidationError(
            f"limit must be an integer from 1 to {_MAX_LIMIT}", details={"field": "limit"}
        )
    if environment is not None:
        validate_lookup(environment=environment)
    return uow.alerts.list(environment=environment, status=status, limit=limit)


def firing_alerts(uow: UnitOfWork) -> list[AlertRecord]:
    """Every firing alert, newest first (what ``/health`` shows)."""
    return uow.alerts.list(environment=None, status=AlertStatus.FIRING, limit=_MAX_LIMIT)


def alert_data(alert: AlertRecord) -> dict[str, Any]:
    """An alert as JSON (webhook payloads, the API, ``--json``)."""
    return {
        "alert": alert.id,
        "environment": alert.environment,
        "kind": alert.kind,
        "subject": alert.subject,
        "severity": alert.severity.value,
        "status": alert.status.value,
        "message": alert.message,
        "evidence": dict(alert.evidence),
        "started_at": alert.started_at.isoformat(),
        "updated_at": alert.updated_at.isoformat(),
        "resolved_at": None if alert.resolved_at is None else alert.resolved_at.isoformat(),
    }


def _resolve(uow: UnitOfWork, alert: AlertRecord, why: str) -> AlertRecord:
    evidence = {**alert.evidence, "resolved": why}
    resolved = uow.alerts.update(
        alert.id,
        at=uow.now,
        status=AlertStatus.RESOLVED,
        resolved_at=uow.now,
        evidence=evidence,
    )
    emit_event(uow, "alert.resolved", environment=alert.environment, data=alert_data(resolved))
    return resolved


def _evaluate(uow: UnitOfWork, environment: str, rule: AlertRule) -> AlertRecord | None:
    totals = uow.metrics.totals(
        environment, rule.flag, rule.metric, since=uow.now - rule.window, until=uow.now
    )
    value, n = _mean(totals, rule.variant)
    baseline = None if rule.baseline is None else _mean(totals, rule.baseline)[0]
    assessment = assess_rule(rule, value, n=n, baseline=baseline)
    kind, subject = f"rule:{rule.name}", f"flag:{rule.flag}"
    firing = uow.alerts.firing(environment, kind, subject)
    if not assessment.known:
        return None
    if assessment.severity is None:
        return None if firing is None else _resolve(uow, firing, "back within its thresholds")
    severity = AlertSeverity(assessment.severity)
    if firing is not None and firing.severity is severity:
        return None
    return raise_alert(
        uow,
        environment,
        kind=kind,
        severity=severity,
        subject=subject,
        message=_message(rule, assessment),
        evidence=_evidence(rule, assessment, n),
    )


def _mean(
    totals: Mapping[tuple[str, WindowKind], WindowTotals], variant: str
) -> tuple[float | None, int]:
    found = [t for (name, _), t in totals.items() if name == variant]
    n = sum(t.n for t in found)
    if n == 0:
        return None, 0
    return sum(t.sum for t in found) / n, n


def _message(rule: AlertRule, assessment: RuleAssessment) -> str:
    measured = f"{rule.metric} of {rule.flag} ({rule.variant})"
    if rule.baseline is not None:
        measured += f" relative to {rule.baseline}"
    condition = rule.critical if assessment.severity == "critical" else rule.warning
    bound = "" if condition is None else f" (threshold {condition.to_dict()})"
    return f"{rule.name}: {measured} is {assessment.value:.6g}, {assessment.severity}{bound}"


def _evidence(rule: AlertRule, assessment: RuleAssessment, n: int) -> dict[str, Any]:
    return {
        "rule": rule_to_dict(rule),
        "value": assessment.value,
        "n": n,
        "window_seconds": rule.window.total_seconds(),
    }
