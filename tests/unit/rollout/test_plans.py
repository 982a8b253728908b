"""Plan documents: the ARCHITECTURE.md example parses to its values; every mistake is refused
whole, naming the path of the bad field; the canonical document reads back to the same plan."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from rheostat.errors import InvalidDefinition
from rheostat.rollout import (
    ApprovalStage,
    BackfillStage,
    CallableGate,
    CheckGate,
    CheckStage,
    GateLimits,
    GateMode,
    HoldbackGate,
    HttpGate,
    InconclusivePolicy,
    MonitorStage,
    NoDataPolicy,
    OnFailure,
    Plan,
    RampStage,
    ThresholdGate,
    WaitUntilStage,
    load_plan,
    plan_from_dict,
    plan_from_text,
    plan_to_dict,
)

EXAMPLE = """\
plan: hybrid-search
flag: hybrid_search
environment: production
stages:
  - check: [database_schema, backups, monitoring]
  - backfill: {job: documents-to-es, verify: checksum}
  - ramp: {percent: 1, bake: 30m, holdback: true}
  - ramp: {percent: 5, bake: 4h}
  - ramp: {percent: 50, bake: 12h, approval: required}
  - ramp: {percent: 100}
  - monitor: {for: 24h}
  - approval: {note: "sign-off"}
  - approval
  - wait_until: "2026-12-08T09:00:00Z"
  - ramp: {percent: 100, segments: [internal]}
gates:
  - {metric: http_error_rate, compare: holdback, worse: higher, tolerance: 0.001, mode: rollback}
  - {metric: latency_p95_ms, max: 2x_baseline, mode: pause}
  - {metric: error_rate, max: 0.01, hard: true}
  - {name: smoke, http: "https://search.example.com/health", expect_status: 200, timeout: 5s}
  - {name: model-ok, callable: "mypkg.checks:validate", mode: rollback}
  - {name: preflight, checks: [schema, backups]}
on_failure: {rollback: immediate}
limits: {failure_limit: 0, error_limit: 4, inconclusive_timeout: 1h, inconclusive_policy: pause,
         no_data_grace: 10m, no_data_policy: hold, stale_after: 21d}
"""

EXPECTED = Plan(
    name="hybrid-search",
    flag="hybrid_search",
    environment="production",
    stages=(
        CheckStage(checks=("database_schema", "backups", "monitoring")),
        BackfillStage(job="documents-to-es", verify="checksum"),
        RampStage(percent=1.0, bake=timedelta(minutes=30), holdback=True),
        RampStage(percent=5.0, bake=timedelta(hours=4)),
        RampStage(percent=50.0, bake=timedelta(hours=12), approval=True),
        RampStage(percent=100.0),
        MonitorStage(duration=timedelta(hours=24)),
        ApprovalStage(note="sign-off"),
        ApprovalStage(),
        WaitUntilStage(at=datetime(2026, 12, 8, 9, 0, tzinfo=UTC)),
        RampStage(percent=100.0, segments=("internal",)),
    ),
    gates=(
        HoldbackGate(name="http_error_rate", metric="http_error_rate", tolerance=0.001),
        ThresholdGate(
            name="latency_p95_ms", metric="latency_p95_ms", mode=GateMode.PAUSE, max_ratio=2.0
        ),
        ThresholdGate(name="error_rate", metric="error_rate", max=0.01, hard=True),
        HttpGate(name="smoke", url="https://search.example.com/health"),
        CallableGate(name="model-ok", target="mypkg.checks:validate"),
        CheckGate(name="preflight", checks=("schema", "backups")),
    ),
    on_failure=OnFailure.IMMEDIATE,
    limits=GateLimits(),
)


def minimal(**fields: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "plan": "p",
        "flag": "f",
        "environment": "production",
        "stages": [{"ramp": {"percent": 100}}],
    }
    document.update(fields)
    return document


def with_stages(*stages: Any) -> dict[str, Any]:
    return minimal(stages=list(stages))


def with_gate(gate: Any) -> dict[str, Any]:
    return minimal(gates=[gate])


def test_the_architecture_example_parses_to_its_values() -> None:
    # Given the example of ARCHITECTURE.md, with every kind of stage and gate
    # When it is read
    plan = plan_from_text(EXAMPLE)

    # Then every value is as written, defaults filled in
    assert plan == EXPECTED


def test_a_plan_file_in_yaml_or_json_reads_the_same(tmp_path: Path) -> None:
    # Given the example as a YAML file and its canonical document as a JSON file
    yaml_file = tmp_path / "plan.yaml"
    yaml_file.write_text(EXAMPLE, encoding="utf-8")
    json_file = tmp_path / "plan.json"
    json_file.write_text(json.dumps(plan_to_dict(EXPECTED)), encoding="utf-8")

    # When both are loaded
    # Then both give the example's plan
    assert load_plan(yaml_file) == EXPECTED
    assert load_plan(json_file) == EXPECTED


def test_a_file_that_is_not_utf8_is_refused_naming_the_byte_offset(tmp_path: Path) -> None:
    # Given a plan saved as Latin-1, with an 'é' at byte 9
    file = tmp_path / "plan.yaml"
    file.write_bytes("plan: caf\u00e9-x\n".encode("latin-1"))

    # When it is loaded
    with pytest.raises(InvalidDefinition) as raised:
        load_plan(file)

    # Then the error names the file and the byte offset
    assert raised.value.path == str(file)
    assert "byte 0xe9 at byte offset 9" in raised.value.reason


def test_text_that_does_not_parse_is_refused_naming_its_source() -> None:
    with pytest.raises(InvalidDefinition) as raised:
        plan_from_text("plan: [unclosed", name_hint="release.yaml")
    assert raised.value.path == "release.yaml"
    assert "not valid YAML or JSON" in raised.value.reason


def test_json_text_is_read_as_json_when_the_name_says_so() -> None:
    with pytest.raises(InvalidDefinition) as raised:
        plan_from_text("plan: p", name_hint="plan.json")
    assert raised.value.path == "plan.json"


def test_a_moment_yaml_reads_unquoted_is_taken_with_its_offset() -> None:
    # Given an unquoted timestamp (YAML makes it a datetime) in another offset
    text = "plan: p\nflag: f\nenvironment: e\nstages:\n  - wait_until: 2026-12-08T10:00:00+01:00\n"

    # When the plan is read
    plan = plan_from_text(text)

    # Then the moment is the same instant, in UTC
    assert plan.stages == (WaitUntilStage(at=datetime(2026, 12, 8, 9, 0, tzinfo=UTC)),)


def test_the_canonical_document_of_the_example_writes_every_field() -> None:
    # When the example's canonical document is written
    document = plan_to_dict(EXPECTED)

    # Then templates and defaults are spelled out in the short forms of the format
    assert document["stages"][2] == {
        "ramp": {"percent": 1, "bake": "30m", "holdback": True, "approval": False, "segments": []}
    }
    assert document["stages"][6] == {"monitor": {"for": "1d"}}
    assert document["stages"][8] == {"approval": {}}
    assert document["stages"][9] == {"wait_until": "2026-12-08T09:00:00Z"}
    assert document["gates"][1] == {
        "name": "latency_p95_ms",
        "metric": "latency_p95_ms",
        "mode": "pause",
        "max_ratio": 2.0,
        "source": "builtin",
        "hard": False,
    }
    assert document["on_failure"] == {"rollback": "immediate"}
    assert document["limits"]["stale_after"] == "21d"
    assert plan_from_dict(yaml.safe_load(yaml.safe_dump(document))) == EXPECTED


def test_gradual_rollback_reads_its_steps_and_bake() -> None:
    plan = plan_from_dict(
        minimal(on_failure={"rollback": "gradual", "steps": [80, 40, 0], "bake": "2m"})
    )
    assert (plan.on_failure, plan.gradual_steps) == (OnFailure.GRADUAL, (80.0, 40.0, 0.0))
    assert plan.gradual_bake == timedelta(minutes=2)


def test_on_failure_may_be_a_bare_word() -> None:
    assert plan_from_dict(minimal(on_failure="hold")).on_failure is OnFailure.HOLD


def test_limits_read_every_field() -> None:
    limits = {
        "failure_limit": 2,
        "error_limit": 1,
        "inconclusive_timeout": "90m",
        "inconclusive_policy": "rollback",
        "no_data_grace": 0,
        "no_data_policy": "warn",
        "stale_after": "2d",
    }
    assert plan_from_dict(minimal(limits=limits)).limits == GateLimits(
        failure_limit=2,
        error_limit=1,
        inconclusive_timeout=timedelta(minutes=90),
        inconclusive_policy=InconclusivePolicy.ROLLBACK,
        no_data_grace=timedelta(0),
        no_data_policy=NoDataPolicy.WARN,
        stale_after=timedelta(days=2),
    )


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("5m", timedelta(minutes=5)),
        ("4h", timedelta(hours=4)),
        ("2d", timedelta(days=2)),
        ("1h30m", timedelta(minutes=90)),
        ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        (90, timedelta(seconds=90)),
        (0, timedelta(0)),
    ],
)
def test_durations_take_the_short_form_or_whole_seconds(written: Any, expected: Any) -> None:
    plan = plan_from_dict(with_stages({"ramp": {"percent": 5, "bake": written}}))
    assert plan.stages == (RampStage(percent=5.0, bake=expected),)


def test_gates_without_a_name_are_named_after_their_metric_or_kind_and_position() -> None:
    gates = [
        {"metric": "errors", "max": 1},
        {"http": "http://localhost:8080/ready"},
        {"callable": "checks:ok"},
        {"checks": ["schema"]},
        {"metric": "errors_vs_holdback", "compare": "holdback"},
    ]
    plan = plan_from_dict(minimal(gates=gates))
    names = [gate.name for gate in plan.gates]
    assert names == ["errors", "http-1", "callable-2", "checks-3", "errors_vs_holdback"]


def test_a_check_gate_runs_every_60s_unless_it_says_how_often() -> None:
    # Given check gates with and without `every`
    gates = [
        {"name": "preflight", "checks": ["schema"]},
        {"name": "often", "checks": ["schema"], "every": "15s"},
        {"name": "each-pass", "checks": ["schema"], "every": 0},
    ]

    # When the plan is read and written back
    plan = plan_from_dict(minimal(gates=gates))
    written = plan_to_dict(plan)["gates"]

    # Then each has its spacing, and the canonical form writes it out
    assert [gate.every for gate in plan.gates if isinstance(gate, CheckGate)] == [
        timedelta(seconds=60),
        timedelta(seconds=15),
        timedelta(0),
    ]
    assert [gate["every"] for gate in written] == ["1m", "15s", "0s"]
    assert plan_from_dict(plan_to_dict(plan)) == plan


BAD_DOCUMENTS = [
    # the document
    ([1, 2], "", "must be a mapping"),
    (minimal(stage=[]), "stage", "unknown field"),
    ({"flag": "f", "environment": "e", "stages": []}, "plan", "missing"),
    (minimal(flag="has space"), "flag", "not valid"),
    (minimal(environment="Production"), "environment", "not valid"),
    (minimal(plan="p\ud800"), "plan", "lone surrogate"),
    (with_stages({"approval": {"note": "ok \udc00"}}), "stages[0].approval.note", "surrogate"),
    ({"plan": "p", "flag": "f", "environment": "e"}, "stages", "missing"),
    (minimal(stages=[]), "stages", "at least one stage"),
    (minimal(stages={"ramp": 5}), "stages", "must be a list"),
    (minimal(target_percentage=50), "target_percentage", "only with a strategy"),
    (minimal(strategy="canary"), "strategy", "not both"),
    # stages
    (with_stages("monitor"), "stages[0]", "must be 'approval'"),
    (with_stages({"rmap": {"percent": 5}}), "stages[0].rmap", "unknown stage kind"),
    (with_stages({"ramp": {"percent": 5}, "bake": "5m"}), "stages[0]", "one kind"),
    (with_stages({"ramp": {}}), "stages[0].ramp.percent", "missing"),
    (with_stages({"ramp": {"percent": "50"}}), "stages[0].ramp.percent", "must be a number"),
    (with_stages({"ramp": {"percent": True}}), "stages[0].ramp.percent", "must be a number"),
    (with_stages({"ramp": {"percent": 100.5}}), "stages[0].ramp.percent", "0 to 100"),
    (with_stages({"ramp": {"percent": -1}}), "stages[0].ramp.percent", "0 to 100"),
    (with_stages({"ramp": {"percent": 0.0001}}), "stages[0].ramp.percent", "3 decimals"),
    (with_stages({"ramp": {"percent": float("nan")}}), "stages[0].ramp.percent", "finite"),
    (with_stages({"ramp": {"percent": 10**400}}), "stages[0].ramp.percent", "too large"),
    (with_stages({"ramp": {"percent": 5, "bakes": "5m"}}), "stages[0].ramp.bakes", "unknown"),
    (with_stages({"ramp": {"percent": 5, "bake": "5 min"}}), "stages[0].ramp.bake", "duration"),
    (with_stages({"ramp": {"percent": 5, "bake": "PT5M"}}), "stages[0].ramp.bake", "duration"),
    (with_stages({"ramp": {"percent": 5, "bake": ""}}), "stages[0].ramp.bake", "duration"),
    (with_stages({"ramp": {"percent": 5, "bake": 1.5}}), "stages[0].ramp.bake", "duration"),
    (with_stages({"ramp": {"percent": 5, "bake": True}}), "stages[0].ramp.bake", "duration"),
    (with_stages({"ramp": {"percent": 5, "bake": -5}}), "stages[0].ramp.bake", "from 0s"),
    (with_stages({"ramp": {"percent": 5, "bake": "9999d"}}), "stages[0].ramp.bake", "3650d"),
    (with_stages({"ramp": {"percent": 5, "holdback": "yes"}}), "stages[0].ramp.holdback", "true"),
    (with_stages({"ramp": {"percent": 60, "holdback": True}}), "stages[0].ramp.holdback", "50"),
    (with_stages({"ramp": {"percent": 5, "approval": "maybe"}}), "stages[0].ramp.approval", "req"),
    (with_stages({"ramp": {"percent": 5, "segments": "beta"}}), "stages[0].ramp.segments", "list"),
    (
        with_stages({"ramp": {"percent": 5, "segments": ["beta", "beta"]}}),
        "stages[0].ramp.segments[1]",
        "named twice",
    ),
    (
        with_stages(
            {"ramp": {"percent": 50}}, {"monitor": {"for": "1h"}}, {"ramp": {"percent": 5}}
        ),
        "stages[2].ramp.percent",
        "below the 50% of stages[0]",
    ),
    (
        with_stages(
            {"ramp": {"percent": 100, "segments": ["beta"]}},
            {"ramp": {"percent": 50, "segments": ["beta"]}},
        ),
        "stages[1].ramp.percent",
        "never lowers",
    ),
    (with_stages({"check": []}), "stages[0].check", "at least one check"),
    (with_stages({"check": [5]}), "stages[0].check[0]", "not valid"),
    (with_stages({"backfill": {"verify": "checksum"}}), "stages[0].backfill.job", "missing"),
    (with_stages({"backfill": {"job": "j", "check": "x"}}), "stages[0].backfill.check", "unknown"),
    (with_stages({"monitor": {}}), "stages[0].monitor.for", "missing"),
    (with_stages({"monitor": {"for": 0}}), "stages[0].monitor.for", "longer than 0s"),
    (with_stages({"monitor": "24h"}), "stages[0].monitor", "must be a mapping"),
    (with_stages({"approval": {"note": 5}}), "stages[0].approval.note", "must be a string"),
    (with_stages({"approval": {"note": "a\x00b"}}), "stages[0].approval.note", "control"),
    (with_stages({"wait_until": "2026-12-08T09:00:00"}), "stages[0].wait_until", "RFC 3339"),
    (with_stages({"wait_until": "2026-12-08"}), "stages[0].wait_until", "RFC 3339"),
    (with_stages({"wait_until": "2026-13-08T09:00:00Z"}), "stages[0].wait_until", "month must be"),
    (with_stages({"wait_until": datetime(2026, 12, 8)}), "stages[0].wait_until", "offset"),  # noqa: DTZ001  # a naive moment is the mistake under test
    (with_stages({"wait_until": 1765184400}), "stages[0].wait_until", "RFC 3339"),
    # gates
    (minimal(gates={"metric": "x"}), "gates", "must be a list"),
    (with_gate({"max": 1}), "gates[0]", "needs one of the keys"),
    (with_gate({"metric": "e", "max": 1, "mod": "pause"}), "gates[0].mod", "unknown field"),
    (with_gate({"metric": "e", "max": 1, "mode": "block"}), "gates[0].mode", "observe, pause"),
    (with_gate({"metric": "e"}), "gates[0]", "needs a limit"),
    (with_gate({"metric": "e", "max": "1%"}), "gates[0].max", "2x_baseline"),
    (with_gate({"metric": "e", "max": "0x_baseline"}), "gates[0].max", "2x_baseline"),
    (with_gate({"metric": "e", "max": True}), "gates[0].max", "must be a number"),
    (with_gate({"metric": "e", "max": 1, "min": 2}), "gates[0].min", "above max"),
    (with_gate({"metric": "e", "max_ratio": 0}), "gates[0].max_ratio", "above 0"),
    (
        with_gate({"metric": "e", "max": "2x_baseline", "max_ratio": 3}),
        "gates[0].max_ratio",
        "given twice",
    ),
    (with_gate({"metric": "e", "max": 1, "source": "datadog"}), "gates[0].source", "one of"),
    (with_gate({"metric": "e", "max": 1, "source": "prometheus"}), "gates[0].query", "query"),
    (
        with_gate({"metric": "e", "max": "2x_baseline", "source": "prometheus", "query": "x"}),
        "gates[0].max",
        "baseline",
    ),
    (with_gate({"metric": "e", "max": 1, "query": "up"}), "gates[0].query", "query"),
    (with_gate({"metric": "e", "max": 1, "hard": "yes"}), "gates[0].hard", "true or false"),
    (with_gate({"metric": 5, "max": 1}), "gates[0].metric", "not valid"),
    (with_gate({"metric": "e", "compare": "baseline"}), "gates[0].compare", "'holdback'"),
    (with_gate({"compare": "holdback"}), "gates[0].metric", "not valid"),
    (with_gate({"metric": "e", "compare": "holdback", "worse": "up"}), "gates[0].worse", "lower"),
    (
        with_gate({"metric": "e", "compare": "holdback", "tolerance": -0.1}),
        "gates[0].tolerance",
        "negative",
    ),
    (with_gate({"metric": "e", "compare": "holdback", "alpha": 1}), "gates[0].alpha", "between"),
    (with_gate({"metric": "e", "compare": "holdback", "min_n": 0}), "gates[0].min_n", "from 1"),
    (with_gate({"metric": "e", "compare": "holdback", "max": 1}), "gates[0].max", "unknown"),
    (with_gate({"checks": []}), "gates[0].checks", "at least one check"),
    (with_gate({"checks": ["x"], "every": "-1s"}), "gates[0].every", "must be"),
    (with_gate({"checks": ["x"], "every": "soon"}), "gates[0].every", "must be"),
    (with_gate({"checks": ["x"], "every": True}), "gates[0].every", "must be"),
    (with_gate({"checks": ["x"], "every": "4000d"}), "gates[0].every", "from 0s"),
    (with_gate({"callable": "not a path"}), "gates[0].callable", "import path"),
    (with_gate({"callable": "pkg.mod"}), "gates[0].callable", "import path"),
    (with_gate({"callable": "m:f", "timeout": "0s"}), "gates[0].timeout", "longer than 0s"),
    (with_gate({"http": "ftp://host/x"}), "gates[0].http", "http(s) URL"),
    (with_gate({"http": "https://"}), "gates[0].http", "http(s) URL"),
    (with_gate({"http": "https://h/x", "expect_status": "200"}), "gates[0].expect_status", "int"),
    (with_gate({"http": "https://h/x", "expect_status": 600}), "gates[0].expect_status", "599"),
    (with_gate({"http": "https://h/x", "callable": "m:f"}), "gates[0].callable", "unknown"),
    (
        minimal(gates=[{"metric": "e", "max": 1}, {"metric": "e", "min": 0}]),
        "gates[1].name",
        "already used by gates[0]",
    ),
    (with_gate({"name": "a b", "checks": ["x"]}), "gates[0].name", "not valid"),
    # on_failure and limits
    (minimal(on_failure={"rollback": "slowly"}), "on_failure.rollback", "one of immediate"),
    (minimal(on_failure={"rollback": "immediate", "steps": [0]}), "on_failure.steps", "gradual"),
    (minimal(on_failure={"mode": "hold"}), "on_failure.mode", "unknown field"),
    (
        minimal(on_failure={"rollback": "gradual", "steps": [50, 75, 0]}),
        "on_failure.steps[1]",
        "each below the last",
    ),
    (
        minimal(on_failure={"rollback": "gradual", "steps": [100, 0]}),
        "on_failure.steps[0]",
        "go down from 100",
    ),
    (
        minimal(on_failure={"rollback": "gradual", "steps": [50, 25]}),
        "on_failure.steps",
        "last step must be 0",
    ),
    (minimal(on_failure={"rollback": "gradual", "bake": "soon"}), "on_failure.bake", "duration"),
    (minimal(limits={"error_limit": 0}), "limits.error_limit", "from 1"),
    (minimal(limits={"failure_limit": 1.5}), "limits.failure_limit", "integer"),
    (minimal(limits={"stale_after": "0s"}), "limits.stale_after", "longer than 0s"),
    (minimal(limits={"no_data_policy": "pass"}), "limits.no_data_policy", "hold, rollback, warn"),
    (minimal(limits={"inconclusive_policy": "x"}), "limits.inconclusive_policy", "advance"),
    (minimal(limits={"stale": "21d"}), "limits.stale", "unknown field"),
    (minimal(limits=[]), "limits", "must be a mapping"),
]


@pytest.mark.parametrize(("document", "path", "reason"), BAD_DOCUMENTS)
def test_every_mistake_is_refused_naming_its_path(document: Any, path: str, reason: str) -> None:
    # Given a document with one mistake
    # When it is read
    with pytest.raises(InvalidDefinition) as raised:
        plan_from_dict(document)

    # Then the error names the field and says what is wrong
    assert raised.value.path == path
    assert reason in raised.value.reason


def test_a_null_gates_or_limits_is_empty() -> None:
    # YAML's `gates:` with nothing under it is null
    plan = plan_from_dict(minimal(gates=None, limits=None, on_failure=None))
    assert (plan.gates, plan.limits, plan.on_failure) == ((), GateLimits(), OnFailure.IMMEDIATE)


def test_a_moment_beyond_the_calendar_in_utc_is_refused() -> None:
    document = with_stages({"wait_until": "0001-01-01T00:00:00+01:00"})
    with pytest.raises(InvalidDefinition) as raised:
        plan_from_dict(document)
    assert raised.value.path == "stages[0].wait_until"
    assert raised.value.reason.startswith("is out of range")


def test_a_duration_a_document_cannot_hold_is_refused_when_written() -> None:
    # Given a plan built in Python with half a second of bake
    plan = Plan(
        name="p",
        flag="f",
        environment="e",
        stages=(RampStage(percent=5.0, bake=timedelta(milliseconds=500)),),
    )

    # When its document is written, then the loss is refused rather than rounded away
    with pytest.raises(ValueError, match="whole non-negative seconds"):
        plan_to_dict(plan)


class _Exploding(dict[str, Any]):
    """A mapping that fails the way malformed input slipping past a field check would."""

    def get(self, key: str, default: Any = None) -> Any:
        raise TypeError("boom")


def test_malformed_input_past_the_field_checks_is_still_invalid_definition() -> None:
    with pytest.raises(InvalidDefinition) as raised:
        plan_from_dict(_Exploding(minimal()))
    assert (raised.value.path, raised.value.reason) == ("", "malformed document: boom")
