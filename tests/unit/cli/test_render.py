"""The ``format_*`` functions: service values in, readable Rich output out."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from rich.console import Console, RenderableType

from rheostat.cli.render import (
    format_change,
    format_flag,
    format_health,
    format_history,
    format_import_result,
    format_percent,
    format_rollout_table,
)
from rheostat.flags.summary import rollout_percent
from rheostat.service import (
    AuditAction,
    FlagRecord,
    FlagState,
    FlagSummary,
    FlagVersion,
    Health,
    HealthStatus,
    ImportResult,
)

AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
RAMPED: dict[str, Any] = {
    "description": "New checkout",
    "enabled": True,
    "variants": {"on": True, "off": False},
    "rules": [{"when": [], "serve": {"split": {"on": 12.5, "off": 87.5}}}],
}


def _text(renderable: RenderableType) -> str:
    console = Console(record=True, width=120, color_system=None)
    console.print(renderable)
    return console.export_text()


def _version(
    number: int, action: AuditAction, actor: str, reason: str | None, **definition: Any
) -> FlagVersion:
    return FlagVersion(
        environment="production",
        key="new-checkout",
        version=number,
        definition={**RAMPED, **definition},
        action=action,
        actor=actor,
        reason=reason,
        created_at=AT,
    )


@pytest.mark.parametrize(
    ("percent", "text"), [(12.5, "12.5%"), (100.0, "100%"), (0.125, "0.125%"), (None, "-")]
)
def test_percentages_show_up_to_three_decimals(percent: float | None, text: str) -> None:
    # Given / When / Then
    assert format_percent(percent) == text


@pytest.mark.parametrize(
    ("definition", "share"),
    [
        (RAMPED, 12.5),
        ({"rules": [{"when": [{"attribute": "a", "op": "exists"}], "serve": "on"}]}, None),
        ({"rules": [{"serve": "on"}]}, None),
        ({}, None),
        (
            {
                "variants": {"yes": True, "no": False},
                "rules": [{"serve": {"split": {"no": 70, "yes": 30}}}],
            },
            30.0,
        ),
    ],
)
def test_the_cli_shows_the_rollout_the_core_reads(
    definition: dict[str, Any], share: float | None
) -> None:
    # Given / When / Then: one function reads the share (not only a variant named "on")
    assert rollout_percent(definition) == share


def test_a_change_names_flag_environment_version_and_a_kill() -> None:
    # Given a killed flag
    record = FlagRecord(
        environment="production",
        key="new-checkout",
        definition={**RAMPED, "enabled": False},
        version=3,
        created_at=AT,
        updated_at=AT,
    )

    # When the change is formatted / Then it reads as one line
    assert _text(format_change("killed", record)).strip() == (
        "new-checkout killed in production (version 3)  kill switch engaged"
    )


def test_a_flag_shows_its_state_and_definition() -> None:
    # Given a ramped flag
    record = FlagRecord(
        environment="production",
        key="new-checkout",
        definition=RAMPED,
        version=2,
        created_at=AT,
        updated_at=AT,
    )

    # When / Then
    text = _text(format_flag(record))
    assert "12.5%" in text
    assert "2026-01-02 03:04:05 UTC" in text
    assert "description: New checkout" in text


def test_the_rollout_table_has_a_row_per_flag() -> None:
    # Given two flags
    rows = [
        FlagSummary(
            environment="production",
            key=key,
            description="",
            state=state,
            enabled=state is not FlagState.DISABLED,
            rollout_percent=percent,
            version=1,
            updated_at=AT,
        )
        for key, state, percent in (
            ("a", FlagState.PERCENTAGE, 25.0),
            ("b", FlagState.DISABLED, None),
        )
    ]

    # When / Then each row shows key, state and share
    lines = _text(format_rollout_table(rows, title="flags")).splitlines()
    assert any("a" in line and "percentage" in line and "25%" in line for line in lines)
    assert any("b" in line and "disabled" in line for line in lines)


def test_the_history_shows_who_when_why_and_what_was_served() -> None:
    # Given a flag ramped by alice and killed by bob
    versions = [
        _version(2, AuditAction.FLAG_KILLED, "bob", "errors up", enabled=False),
        _version(1, AuditAction.FLAG_ROLLOUT_SET, "alice", "canary"),
    ]

    # When / Then
    lines = _text(format_history(versions, title="history")).splitlines()
    killed = next(line for line in lines if "bob" in line)
    ramped = next(line for line in lines if "alice" in line)
    assert "2026-01-02 03:04" in killed
    assert "KILLED" in killed
    assert "errors up" in killed
    assert "12.5%" in ramped
    assert "rollout_set" in ramped


def test_health_lists_each_engaged_kill_switch() -> None:
    # Given a health report with one kill switch engaged
    health = Health(
        status=HealthStatus.HEALTHY,
        database="connected",
        schema_revision="0001",
        kill_switches={"production": {"new-checkout": True, "search": False}},
    )

    # When / Then
    text = _text(format_health(health))
    assert "1 engaged" in text
    assert any("new-checkout" in line and "ENGAGED" in line for line in text.splitlines())


def test_an_import_lists_what_changed() -> None:
    # Given / When a dry run's result is formatted
    text = _text(format_import_result(ImportResult(created=("a",)), dry_run=True))

    # Then it says nothing was written and what would be
    assert "dry run, nothing written" in text
    assert "flags created: a" in text
