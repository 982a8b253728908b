"""The stored results document: strict JSON for any data, and the 1-minute windows."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from rheostat.experiments import Arm, ArmData, Experiment, MetricKind, MetricSpec, analyze
from rheostat.experiments.documents import results_document
from rheostat.service.experiment_traffic import window_of
from rheostat.stats import ProportionStats, SampleStats

AT = datetime(2026, 3, 1, 12, 30, 45, 123456, tzinfo=UTC)
EXPERIMENT = Experiment(
    key="copy",
    arms=(Arm(name="control", weight_percent=50), Arm(name="treatment", weight_percent=50)),
    metrics=(
        MetricSpec(name="latency", higher_is_better=False),
        MetricSpec(name="bought", kind=MetricKind.PROPORTION),
    ),
)


def _arm(name: str, *, units: int, latency: SampleStats, bought: int) -> ArmData:
    return ArmData(
        name=name,
        units=units,
        metrics={"latency": latency, "bought": ProportionStats(n=units, successes=bought)},
        commits=frozenset({"abc"}),
    )


@pytest.mark.parametrize(
    "arms",
    [
        pytest.param({}, id="no-data"),
        pytest.param(
            {
                "control": _arm("control", units=3, latency=SampleStats(3, 3.0, 3.0), bought=0),
                "treatment": _arm(
                    "treatment", units=1, latency=SampleStats(1, 5.0, 25.0), bought=1
                ),
            },
            id="degenerate",
        ),
        pytest.param(
            {
                "control": _arm(
                    "control", units=500, latency=SampleStats(500, 1.5e5, 4.55e7), bought=50
                ),
                "treatment": _arm(
                    "treatment", units=500, latency=SampleStats(500, 1.4e5, 3.97e7), bought=80
                ),
            },
            id="clear-win",
        ),
    ],
)
def test_the_document_is_strict_json_and_round_trips(arms: dict[str, ArmData]) -> None:
    # Given results of any data / When they become a document and go through JSON
    document = results_document("production", EXPERIMENT, analyze(EXPERIMENT, arms, at=AT))
    text = json.dumps(document, allow_nan=False)

    # Then nothing is NaN or infinite, and reading it back gives the same document
    assert json.loads(text) == document
    assert document["at"] == "2026-03-01T12:30:45.123456+00:00"
    assert document["control"] == "control"


def test_a_clear_win_reads_as_one_in_the_document() -> None:
    # Given a treatment with lower latency and more buyers
    arms = {
        "control": _arm("control", units=500, latency=SampleStats(500, 1.5e5, 4.55e7), bought=50),
        "treatment": _arm(
            "treatment", units=500, latency=SampleStats(500, 1.4e5, 3.97e7), bought=80
        ),
    }

    # When the document is made
    document = results_document("production", EXPERIMENT, analyze(EXPERIMENT, arms, at=AT))

    # Then both comparisons are improvements, with the lift's CI around the lift
    rows = {row["metric"]: row for row in document["comparisons"]}
    assert document["valid"] is True
    assert rows["latency"]["improvement"] > 0
    assert rows["latency"]["absolute"]["estimate"] == pytest.approx(-20.0)
    assert rows["bought"]["kind"] == "proportion"
    lift = rows["bought"]["relative"]
    assert lift["ci_lower"] < lift["estimate"] < lift["ci_upper"]


@pytest.mark.parametrize(
    ("moment", "start"),
    [
        (
            datetime(2026, 3, 1, 12, 30, 45, 123456, tzinfo=UTC),
            datetime(2026, 3, 1, 12, 30, tzinfo=UTC),
        ),
        (datetime(2026, 3, 1, 12, 31, tzinfo=UTC), datetime(2026, 3, 1, 12, 31, tzinfo=UTC)),
        (
            datetime(2026, 3, 1, 23, 59, 59, 999999, tzinfo=UTC),
            datetime(2026, 3, 1, 23, 59, tzinfo=UTC),
        ),
    ],
)
def test_a_moment_falls_in_the_minute_that_holds_it(moment: datetime, start: datetime) -> None:
    # Given / When / Then: windows are [start, start + 1 min), so an ended one never grows
    begin, end = window_of(moment)
    assert begin == start
    assert (end - begin).total_seconds() == 60
    assert begin <= moment < end
