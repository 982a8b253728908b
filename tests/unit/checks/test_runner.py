"""The runner: concurrency, per-check timeouts, crash isolation, severity, aggregation."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from rheostat.checks import (
    CheckResult,
    CheckSpec,
    Finding,
    Registry,
    Severity,
    Status,
    exit_code,
    run_suite,
    summarize,
)
from rheostat.clock import FixedClock, SystemClock


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Set at the end of the test, so a hung probe's thread finishes."""
    event = threading.Event()
    yield event
    event.set()


def _check(name: str, kind: str, **fields: object) -> CheckSpec:
    return CheckSpec(name=name, kind=kind, **fields)  # type: ignore[arg-type]


def test_a_crash_and_a_timeout_fail_while_the_other_checks_still_answer(
    release: threading.Event,
) -> None:
    # Given a registry with a good probe, one that raises and one that never answers
    def hang(check: CheckSpec) -> Finding:
        release.wait()
        return Finding.passed("late")

    def crash(check: CheckSpec) -> Finding:
        raise RuntimeError("boom")

    registry = Registry(
        {"ok": lambda check: Finding.passed("fine", n=1), "crash": crash, "hang": hang}
    )
    checks = [
        _check("hung", "hang", timeout_seconds=0.2),
        _check("crashing", "crash"),
        _check("good", "ok"),
    ]

    # When the suite runs
    results = run_suite(checks, registry, monotonic=SystemClock().monotonic)

    # Then each check has its result, in order; the broken ones fail naming their error
    hung, crashing, good = results
    assert (hung.status, hung.error, hung.duration_seconds) == (Status.FAIL, "timeout", 0.2)
    assert "0.2s" in hung.message
    assert (crashing.status, crashing.error) == (Status.FAIL, "crash")
    assert crashing.message == "crashed: RuntimeError: boom"
    assert (good.status, good.message, dict(good.evidence)) == (Status.PASS, "fine", {"n": 1})
    assert exit_code(results) == 1


def test_checks_run_at_the_same_time() -> None:
    # Given three probes that each wait until all three have started
    barrier = threading.Barrier(3, timeout=10)

    def together(check: CheckSpec) -> Finding:
        barrier.wait()
        return Finding.passed("met the others")

    checks = [_check(f"c{i}", "together", timeout_seconds=20) for i in range(3)]

    # When they run, Then all pass: none could have passed had they run one by one
    results = run_suite(checks, Registry({"together": together}), monotonic=FixedClock().monotonic)
    assert [result.status for result in results] == [Status.PASS] * 3


def test_severity_warn_turns_a_failure_into_a_warning_but_not_a_crash() -> None:
    def crash(check: CheckSpec) -> Finding:
        raise ValueError("bad")

    registry = Registry({"no": lambda check: Finding.failed("exited 3"), "crash": crash})
    results = run_suite(
        [
            _check("soft", "no", severity=Severity.WARN),
            _check("hard", "no"),
            _check("soft-crash", "crash", severity=Severity.WARN),
        ],
        registry,
        monotonic=FixedClock().monotonic,
    )
    assert [result.status for result in results] == [Status.WARN, Status.FAIL, Status.FAIL]
    assert results[0].evidence == {"severity": "warn"}


def test_a_kind_without_a_probe_fails_and_a_non_finding_is_a_crash() -> None:
    registry = Registry({"odd": lambda check: "yes"})  # type: ignore[dict-item,arg-type,return-value]
    missing, odd = run_suite(
        [_check("a", "nope"), _check("b", "odd")], registry, monotonic=FixedClock().monotonic
    )
    assert missing.status is Status.FAIL
    assert "no probe runs kind 'nope'" in missing.message
    assert (odd.status, odd.error) == (Status.FAIL, "crash")


def test_registries_are_extended_without_being_changed() -> None:
    base = Registry({"a": lambda check: Finding.passed("a")})
    extended = base.with_probes({"b": lambda check: Finding.passed("b")})
    assert base.kinds == {"a"}
    assert extended.kinds == {"a", "b"}


def _result(status: Status) -> CheckResult:
    return CheckResult(name=status.value, kind="k", status=status, message="m")


@pytest.mark.parametrize(
    ("statuses", "worst", "code"),
    [
        ([], Status.PASS, 0),
        ([Status.PASS, Status.PASS], Status.PASS, 0),
        ([Status.PASS, Status.WARN], Status.WARN, 0),
        ([Status.WARN, Status.FAIL, Status.PASS], Status.FAIL, 1),
    ],
)
def test_a_run_is_as_bad_as_its_worst_check_and_only_a_failure_exits_1(
    statuses: list[Status], worst: Status, code: int
) -> None:
    results = [_result(status) for status in statuses]
    summary = summarize(results)
    assert summary.status is worst
    assert summary.total == len(statuses)
    assert summary.failed == statuses.count(Status.FAIL)
    assert exit_code(results) == code


def test_results_round_trip_through_json() -> None:
    result = CheckResult(
        name="n",
        kind="http",
        status=Status.WARN,
        message="slow",
        evidence={"ms": 3},
        duration_seconds=0.25,
        error=None,
    )
    assert CheckResult.from_document(result.to_document()) == result
