"""Experiment results: comparisons, SRM and validity."""

from __future__ import annotations

from datetime import UTC, datetime

from rheostat.experiments import Arm, ArmData, Experiment, MetricKind, MetricSpec, analyze
from rheostat.stats import ProportionStats, SampleStats

AT = datetime(2026, 11, 24, tzinfo=UTC)
EXPERIMENT = Experiment(
    key="copy-test",
    arms=(Arm(name="control", weight_percent=50), Arm(name="treatment", weight_percent=50)),
    metrics=(
        MetricSpec(name="latency", higher_is_better=False),
        MetricSpec(name="converted", kind=MetricKind.PROPORTION),
    ),
)


def stats_of(n: int, mean: float, sd: float) -> SampleStats:
    total = n * mean
    return SampleStats(n=n, sum=total, sum_squares=sd * sd * (n - 1) + total * total / n)


def arms(
    *, treatment_units: int = 5_000, commits: tuple[str, str] = ("abc", "abc")
) -> dict[str, ArmData]:
    return {
        "control": ArmData(
            name="control",
            units=5_000,
            commits=frozenset({commits[0]}),
            metrics={
                "latency": stats_of(5_000, 310.0, 95.0),
                "converted": ProportionStats(n=5_000, successes=410),
            },
        ),
        "treatment": ArmData(
            name="treatment",
            units=treatment_units,
            commits=frozenset({commits[1]}),
            metrics={
                "latency": stats_of(treatment_units, 290.0, 95.0),
                "converted": ProportionStats(n=treatment_units, successes=468),
            },
        ),
    }


def test_a_clear_latency_win_is_significant_and_an_improvement() -> None:
    results = analyze(EXPERIMENT, arms(), at=AT)
    latency = next(r for r in results.comparisons if r.metric == "latency")
    assert results.valid
    assert results.significant
    assert latency.significant
    assert latency.absolute.estimate is not None
    assert abs(latency.absolute.estimate + 20.0) < 1e-9
    assert latency.improvement is not None
    assert latency.improvement > 0
    assert results.mean_of("control", "latency") == 310.0


def test_arms_on_different_commits_are_not_valid() -> None:
    results = analyze(EXPERIMENT, arms(commits=("abc", "def")), at=AT)
    assert results.invalid_reasons == ("arms_on_different_commits",)
    assert not results.significant


def test_a_broken_split_is_flagged_as_srm() -> None:
    results = analyze(EXPERIMENT, arms(treatment_units=4_400), at=AT)
    assert results.srm.mismatch
    assert "sample_ratio_mismatch" in results.invalid_reasons


def test_no_data_is_too_little_data_not_an_error() -> None:
    results = analyze(EXPERIMENT, {}, at=AT)
    assert "too_little_data" in results.invalid_reasons
    assert results.comparisons == ()
    assert not results.significant
