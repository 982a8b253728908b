"""View models of the dashboard's pages, from service records and documents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rheostat.flags.summary import FlagState
from rheostat.metrics import WindowKind, WindowTotals
from rheostat.rollout import HoldbackGate, Plan, RampStage
from rheostat.rollout.state import Phase, PlanState
from rheostat.service import AuditAction, AuditEvent, FlagSummary, FlagVersion
from rheostat.web.diffs import definition_diff
from rheostat.web.experiment_views import results_view
from rheostat.web.flag_views import flag_rows, history_rows, rule_rows, variant_rows
from rheostat.web.operation_views import audit_rows, backfill_row, eta_text
from rheostat.web.plan_views import (
    available_commands,
    bucket_edges,
    metric_series,
    stage_rows,
)

AT = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
PLAN = Plan(
    name="p",
    flag="f",
    environment="production",
    stages=(
        RampStage(percent=5, bake=timedelta(minutes=30), holdback=True),
        RampStage(percent=50, approval=True),
        RampStage(percent=100),
    ),
    gates=(HoldbackGate(name="errors", metric="http_errors"),),
)


def _summary(key: str, description: str, *, enabled: bool = True) -> FlagSummary:
    return FlagSummary(
        environment="production",
        key=key,
        description=description,
        state=FlagState.PERCENTAGE,
        enabled=enabled,
        rollout_percent=12.5,
        version=3,
        updated_at=AT,
    )


def test_flag_search_matches_key_or_description_in_any_case() -> None:
    summaries = [_summary("new-checkout", "Checkout v2"), _summary("search", "Hybrid")]
    assert [r.key for r in flag_rows(summaries, search="CHECKOUT")] == ["new-checkout"]
    assert [r.key for r in flag_rows(summaries, search="hybrid")] == ["search"]
    assert len(flag_rows(summaries)) == 2
    assert flag_rows(summaries)[0].rollout == "12.5%"


def test_a_killed_flag_is_marked() -> None:
    assert flag_rows([_summary("a", "", enabled=False)])[0].killed


def test_rules_and_variants_read_back_in_words() -> None:
    definition = {
        "variants": {"on": True, "off": False},
        "default": "off",
        "rules": [
            {"name": "pilot", "when": [{"attribute": "org", "op": "in", "values": ["a", "b"]}],
             "serve": "on"},
            {"serve": {"split": {"on": 10, "off": 90}, "by": "key"}},
        ],
    }  # fmt: skip
    rules = rule_rows(definition)
    assert rules[0].conditions == ("org in [a, b]",)
    assert rules[0].serves == "variant on"
    assert rules[1].name == "rule 2"
    assert rules[1].serves == "split by key: on 10%, off 90%"
    assert [(v.name, v.value, v.is_default) for v in variant_rows(definition)] == [
        ("on", "true", False),
        ("off", "false", True),
    ]


def test_history_diffs_each_version_against_the_one_before() -> None:
    def version(number: int, percent: int) -> FlagVersion:
        return FlagVersion(
            environment="production", key="f", version=number,
            definition={"rules": [{"serve": {"split": {"on": percent, "off": 100 - percent}}}]},
            action=AuditAction.FLAG_ROLLOUT_SET, actor="ops", created_at=AT,
        )  # fmt: skip

    rows = history_rows([version(2, 25), version(1, 5)])
    assert rows[0].is_current
    assert not rows[1].is_current
    changed = [(line.kind, line.text) for line in rows[0].diff]
    assert any(kind == "removed" and "95" in text for kind, text in changed)
    assert any(kind == "added" and "75" in text for kind, text in changed)
    assert all(line.kind == "added" for line in rows[1].diff if line.kind != "hunk")


def test_a_diff_of_equal_definitions_is_empty() -> None:
    assert definition_diff({"a": 1}, {"a": 1}) == []


def test_the_stage_timeline_marks_done_current_and_next() -> None:
    state = PlanState(plan=PLAN, phase=Phase.AWAITING_APPROVAL, stage=1)
    rows = stage_rows(state)
    assert [r.status for r in rows] == ["done", "current", "next"]
    assert rows[0].label == "ramp 5% · bake 30m · holdback"
    assert rows[1].label == "ramp 50% · approval"


def test_a_rolled_back_plan_marks_its_stages_undone() -> None:
    state = PlanState(plan=PLAN, phase=Phase.ROLLED_BACK, stage=1)
    assert [r.status for r in stage_rows(state)] == ["undone", "undone", "next"]


def test_commands_offered_follow_the_phase() -> None:
    def offered(phase: Phase, approved: frozenset[int] = frozenset()) -> tuple[str, ...]:
        return available_commands(PlanState(plan=PLAN, phase=phase, stage=1, approved=approved))

    assert offered(Phase.AWAITING_APPROVAL) == ("approve", "pause", "rollback")
    assert offered(Phase.AWAITING_APPROVAL, frozenset({1})) == ("pause", "rollback")
    assert offered(Phase.PAUSED) == ("resume", "rollback")
    assert offered(Phase.COMPLETED) == ()


def test_metric_series_compute_each_buckets_rate_per_arm() -> None:
    # Given: two buckets, the second without holdback data
    edges = bucket_edges(AT, AT + timedelta(minutes=2), count=2)
    proportion = WindowKind.PROPORTION
    buckets = [
        (edges[1], {("on", proportion): WindowTotals(kind=proportion, n=100, sum=2.0),
                    ("holdback", proportion): WindowTotals(kind=proportion, n=50, sum=1.0)}),
        (edges[2], {("on", proportion): WindowTotals(kind=proportion, n=100, sum=4.0)}),
    ]  # fmt: skip
    # When
    treatment, holdback = metric_series(AT, buckets)
    # Then
    assert treatment.points == ((60.0, 0.02), (120.0, 0.04))
    assert holdback.points == ((60.0, 0.02),)
    assert (treatment.tone, holdback.tone) == ("treatment", "holdback")


def test_results_view_reads_arms_lift_srm_and_validity() -> None:
    document = {
        "at": "2026-12-07T10:00:00+00:00",
        "control": "a",
        "valid": False,
        "invalid_reasons": ["sample_ratio_mismatch"],
        "significant": False,
        "srm": {"mismatch": True, "p_value": 0.0001},
        "arms": [
            {"name": "a", "units": 1000, "metrics": {
                "conversion": {"n": 1000, "mean": 0.1, "ci_lower": 0.08, "ci_upper": 0.12}}},
            {"name": "b", "units": 900, "metrics": {
                "conversion": {"n": 900, "mean": 0.12, "ci_lower": None, "ci_upper": None}}},
        ],
        "comparisons": [
            {"metric": "conversion", "arm": "b", "significant": True, "improvement": 0.2,
             "relative": {"estimate": 0.2, "ci_lower": 0.05, "ci_upper": 0.35}},
            {"metric": "revenue", "arm": "b", "significant": False, "improvement": None,
             "relative": {"estimate": None, "ci_lower": None, "ci_upper": None}},
        ],
    }  # fmt: skip
    view = results_view(document)
    assert view.metrics == ("conversion",)
    assert view.arms[0].is_control
    assert view.arms[0].cells[0].interval == "[0.08, 0.12]"
    assert view.arms[1].cells[0].interval == "—"
    assert view.srm_warning is not None
    assert "p = 0.0001" in view.srm_warning
    assert [(i.label, i.verdict) for i in view.lift] == [("b · conversion", "better")]
    assert not view.valid


def test_backfill_rows_show_rate_eta_and_verify() -> None:
    row = backfill_row(
        {"name": "docs", "status": "running", "rows_done": 2500, "rows_total": 10000,
         "percent": 25.0, "rows_per_second": 812.4, "eta_seconds": 3725,
         "verify": None, "verified": False}
    )  # fmt: skip
    assert (row.rows, row.rate, row.eta, row.verify) == (
        "2,500 / 10,000", "812 rows/s", "1h 2m", "not verified yet",
    )  # fmt: skip
    assert row.is_live
    done = backfill_row(
        {"name": "docs", "status": "completed", "rows_done": 1, "verify": {"identical": True,
         "rows": 1}, "verified": True}
    )  # fmt: skip
    assert done.verify_ok
    assert done.verify == "identical: rows=1"
    assert eta_text(None) == "—"
    assert eta_text(42) == "42s"


def test_audit_rows_show_what_changed() -> None:
    event = AuditEvent(
        id=7, at=AT, actor="api-key:ops", action=AuditAction.FLAG_KILLED,
        environment="production", subject="flag:checkout",
        before={"enabled": True, "version": 2}, after={"enabled": False, "version": 3},
        reason="errors up",
    )  # fmt: skip
    row = audit_rows([event])[0]
    assert row.action == "flag.killed"
    assert row.change == "enabled=false, version=3"
    assert row.reason == "errors up"
