"""Alerts (issue 10): seed 003's thresholds over metric windows, plans' alerts stored, both
sent through the webhook outbox, and /health's view of plans and alerts. SQLite and
PostgreSQL, with a controlled clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rheostat import service
from rheostat.clock import FixedClock
from rheostat.errors import InvalidDefinition, ValidationError
from rheostat.metrics import MetricWindow, WindowKind
from rheostat.rollout import GateVerdict, HoldbackGate, Plan, RampStage, Verdict
from rheostat.rollout.state import Command, CommandKind, Observations
from rheostat.service import AlertSeverity, AlertStatus, Change, SqlStore, transact

ENV = "production"
FLAG = "partitioned_tables"
RULES = {
    "rules": [
        {
            "name": "error-rate",
            "flag": FLAG,
            "metric": "http_errors",
            "min_n": 100,
            "warning": {"above": 0.005},
            "critical": {"above": 0.01},
        }
    ]
}


@pytest.fixture
def watched(store: SqlStore) -> SqlStore:
    transact(store, service.create_environment, ENV, change=Change(actor="setup"))
    transact(store, service.create_flag, ENV, FLAG, {}, change=Change(actor="setup"))
    transact(store, service.set_alert_rules, ENV, RULES, change=Change(actor="sre"))
    transact(
        store,
        service.create_webhook,
        "http://127.0.0.1:9/alerts",
        events=["alert.*"],
        change=Change(actor="sre"),
    )
    return store


def _errors(store: SqlStore, clock: FixedClock, *, n: int, errors: int) -> None:
    window = MetricWindow(
        flag=FLAG,
        variant="on",
        metric="http_errors",
        start=clock.now() - timedelta(seconds=60),
        seconds=60,
        kind=WindowKind.PROPORTION,
        n=n,
        successes=errors,
    )
    transact(store, service.record_metric_windows, ENV, [window])


def _outbox_types(store: SqlStore) -> list[str]:
    hook = transact(store, service.list_webhooks)[0].id
    return [d.event_type for d in reversed(transact(store, service.webhook_deliveries, hook))]


def test_a_rule_fires_escalates_and_resolves_as_the_error_rate_moves(
    watched: SqlStore, clock: FixedClock
) -> None:
    # Given 0.3 % errors: within bounds
    _errors(watched, clock, n=1000, errors=3)
    assert transact(watched, service.evaluate_alerts) == []

    # When it reaches 0.7 %: a warning fires
    _errors(watched, clock, n=1000, errors=11)
    fired = transact(watched, service.evaluate_alerts)
    assert [(a.kind, a.severity, a.status) for a in fired] == [
        ("rule:error-rate", AlertSeverity.WARNING, AlertStatus.FIRING)
    ]
    assert fired[0].evidence["value"] == pytest.approx(0.007)
    assert transact(watched, service.evaluate_alerts) == []  # unchanged: nothing new

    # When it reaches 1.2 %: the same alert becomes critical
    _errors(watched, clock, n=1000, errors=22)
    escalated = transact(watched, service.evaluate_alerts)
    assert [(a.id, a.severity) for a in escalated] == [(fired[0].id, AlertSeverity.CRITICAL)]

    # When those windows slide out and 0.1 % comes in: resolved
    clock.advance(timedelta(minutes=10))
    _errors(watched, clock, n=1000, errors=1)
    resolved = transact(watched, service.evaluate_alerts)
    assert [(a.id, a.status) for a in resolved] == [(fired[0].id, AlertStatus.RESOLVED)]

    # Then webhooks were told each time, and nothing is firing
    assert _outbox_types(watched) == ["alert.firing", "alert.firing", "alert.resolved"]
    assert transact(watched, service.firing_alerts) == []


def test_too_few_observations_change_nothing(watched: SqlStore, clock: FixedClock) -> None:
    _errors(watched, clock, n=50, errors=50)
    assert transact(watched, service.evaluate_alerts) == []
    assert transact(watched, service.list_alerts) == []


def test_bad_rules_are_refused_naming_the_path(watched: SqlStore) -> None:
    bad = {"rules": [{"name": "x", "flag": FLAG, "metric": "m", "warning": {"above": "high"}}]}
    with pytest.raises(InvalidDefinition, match=r"rules\[0\]\.warning\.above"):
        transact(watched, service.set_alert_rules, ENV, bad, change=Change(actor="sre"))
    stored = transact(watched, service.get_alert_rules, ENV)
    assert stored.version == 1
    assert stored.document["rules"][0]["name"] == "error-rate"


def test_an_alert_is_resolved_by_hand_once(watched: SqlStore, clock: FixedClock) -> None:
    _errors(watched, clock, n=1000, errors=30)
    alert = transact(watched, service.evaluate_alerts)[0]
    resolved = transact(watched, service.resolve_alert, alert.id, change=Change(actor="sre"))
    assert resolved.status is AlertStatus.RESOLVED
    with pytest.raises(ValidationError, match="already resolved"):
        transact(watched, service.resolve_alert, alert.id, change=Change(actor="sre"))


PLAN = Plan(
    name="partitions",
    flag=FLAG,
    environment=ENV,
    stages=(
        RampStage(percent=5, bake=timedelta(minutes=30), holdback=True),
        RampStage(percent=100),
    ),
    gates=(HoldbackGate(name="errors", metric="http_errors"),),
)


def test_a_plan_rolled_back_raises_a_critical_alert_and_health_shows_it(
    watched: SqlStore,
) -> None:
    # Given a running plan at 5 %
    transact(watched, service.create_plan, PLAN, change=Change(actor="alice"))
    transact(
        watched,
        service.command_plan,
        ENV,
        "partitions",
        Command(kind=CommandKind.START, actor="alice"),
    )
    passing = Observations(verdicts=(GateVerdict(gate="errors", verdict=Verdict.PASS),))
    transact(watched, service.reconcile, ENV, "partitions", passing)
    health = service.check_health(watched)
    assert [(p["plan"], p["state"], p["percent"]) for p in health.running_plans] == [
        ("partitions", "baking", 5.0)
    ]

    # When its gate fails
    failing = Observations(verdicts=(GateVerdict(gate="errors", verdict=Verdict.FAIL),))
    transact(watched, service.reconcile, ENV, "partitions", failing)

    # Then a critical alert is stored and firing, and /health lists it (and no running plan)
    firing = transact(watched, service.firing_alerts)
    assert [(a.kind, a.severity, a.subject) for a in firing] == [
        ("plan.rollback", AlertSeverity.CRITICAL, "plan:partitions")
    ]
    health = service.check_health(watched)
    assert health.running_plans == ()
    assert [a["kind"] for a in health.firing_alerts] == ["plan.rollback"]
    assert _outbox_types(watched) == ["alert.firing"]


def test_a_paused_plan_alerts_and_resolves_when_resumed(watched: SqlStore) -> None:
    transact(watched, service.create_plan, PLAN, change=Change(actor="alice"))
    for kind in (CommandKind.START, CommandKind.PAUSE):
        transact(
            watched, service.command_plan, ENV, "partitions", Command(kind=kind, actor="alice")
        )
    assert [a.kind for a in transact(watched, service.firing_alerts)] == ["plan.paused"]
    resume = Command(kind=CommandKind.RESUME, actor="alice")
    transact(watched, service.command_plan, ENV, "partitions", resume)
    assert transact(watched, service.firing_alerts) == []
    statuses = [a.status for a in transact(watched, service.list_alerts, environment=ENV)]
    assert statuses == [AlertStatus.RESOLVED]
