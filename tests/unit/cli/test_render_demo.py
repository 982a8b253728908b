"""What ``rheostat demo`` prints: the pure views of its events and evidence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rich.console import Console, RenderableType

from rheostat.cli.render_demo import (
    format_dashboard,
    format_evidence,
    format_health_line,
    format_plan_event,
)
from rheostat.service import Health, HealthStatus, PlanEvent

AT = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
EVIDENCE = {
    "gate": "report_errors",
    "mode": "rollback",
    "verdict": "fail",
    "rule": "report_errors: treatment - holdback <= 0.002, alpha 0.005, always-valid",
    "alpha": 0.005,
    "tolerance": 0.002,
    "treatment_mean": 0.01899,
    "holdback_mean": 0.008383,
    "treatment_n": 5055,
    "holdback_n": 5010,
    "estimate": 0.01061,
    "ci_lower": 0.002349,
    "ci_upper": None,
}


def _text(renderable: RenderableType) -> str:
    console = Console(record=True, width=120, color_system=None)
    console.print(renderable)
    return console.export_text()


def test_the_rollback_evidence_shows_verdict_arms_sizes_and_interval() -> None:
    # Given a failing holdback gate's evidence / When it is formatted
    text = _text(format_evidence(EVIDENCE))

    # Then the verdict, both arms with their sample sizes, the effect and its interval show
    assert "report_errors (rollback)" in text
    assert "fail" in text
    assert "0.01899 over n = 5,055" in text
    assert "0.008383 over n = 5,010" in text
    assert "0.01061" in text
    assert "[0.002349, +inf] (99.5% always-valid" in text
    assert "tolerance   0.002" in text


def test_an_event_shows_the_simulated_time_since_the_plans_began() -> None:
    # Given an event 1 h 32 min into the plans
    event = PlanEvent(
        environment="production", plan="async-reports", at=AT, type="plan.rolled_back",
        stage=3, message="gate report_errors failed", evidence={}, actor="controller",
    )  # fmt: skip

    # When / Then
    text = _text(format_plan_event(event, elapsed=timedelta(hours=1, minutes=32)))
    assert text.split() == [
        "+1h32m", "async-reports", "plan.rolled_back", "gate", "report_errors", "failed",
    ]  # fmt: skip


def test_health_names_the_kill_switches_engaged_and_only_those() -> None:
    # Given a health report with one kill switch engaged among others
    health = Health(
        status=HealthStatus.HEALTHY,
        database="connected",
        kill_switches={"production": {"a": False, "killed": True}, "staging": {"a": False}},
    )

    # When / Then
    text = _text(format_health_line(health))
    assert "kill switches engaged: production/killed" in text
    assert "/a" not in text


def test_the_dashboard_panel_gives_the_url_and_the_admin_key() -> None:
    # Given / When
    text = _text(
        format_dashboard(
            url="http://127.0.0.1:8000", admin_key="rh_admin_x", sdk_key="rh_sdk_y", database="d"
        )
    )

    # Then
    assert "http://127.0.0.1:8000/" in text
    assert "rh_admin_x" in text
    assert "Ctrl-C" in text
