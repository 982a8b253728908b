"""``MetricBuffer``: windows of sufficient statistics, closed by time, bounded, retried."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rheostat.metrics import QuantileSketch
from rheostat.sdk.tracking import MetricBuffer

T0 = datetime(2026, 12, 7, 9, 0, 5, tzinfo=UTC)


def test_values_add_up_per_variant_and_kind_and_only_closed_windows_are_taken() -> None:
    # Given errors (bools) and latencies (numbers) of two variants in one minute
    buffer = MetricBuffer(instance_id="p1")
    for failed in (True, False, False, True):
        buffer.add("checkout", "on", "errors", failed, now=T0)
    buffer.add("checkout", "off", "latency_ms", 10.0, now=T0)
    buffer.add("checkout", "off", "latency_ms", 30.0, now=T0)

    # When windows are taken during the minute, then after it
    during = buffer.take(now=T0 + timedelta(seconds=30))
    after = buffer.take(now=T0 + timedelta(seconds=60))

    # Then nothing was sent early; afterwards one window per variant and kind, exact sums
    assert during == []
    by_metric = {window["metric"]: window for window in after}
    assert by_metric["errors"] | {"id": None} == {
        "id": None,
        "flag": "checkout",
        "variant": "on",
        "metric": "errors",
        "kind": "proportion",
        "start": "2026-12-07T09:00:00+00:00",
        "seconds": 60,
        "n": 4,
        "successes": 2,
    }
    latency = by_metric["latency_ms"]
    assert (latency["n"], latency["sum"], latency["sum_squares"]) == (2, 40.0, 1000.0)
    assert QuantileSketch.from_document(latency["sketch"]) == QuantileSketch.of([10.0, 30.0])
    assert len({window["id"] for window in after}) == 2


def test_a_batch_given_back_is_sent_again_with_the_same_ids_and_the_queue_is_bounded() -> None:
    # Given three closed windows and a queue that holds two
    buffer = MetricBuffer(instance_id="p1", max_pending=2)
    for metric in ("a", "b"):
        buffer.add("f", "on", metric, 1.0, now=T0)
    first = buffer.take(now=T0 + timedelta(minutes=1))

    # When the send fails and a newer window closes meanwhile
    buffer.give_back(first)
    buffer.add("f", "on", "c", 1.0, now=T0 + timedelta(minutes=1))
    retried = buffer.take(now=T0 + timedelta(minutes=2))

    # Then the retry carries the same ids, and the oldest window made room (counted)
    assert [window["id"] for window in retried[:1]] == [first[1]["id"]]
    assert [window["metric"] for window in retried] == ["b", "c"]
    assert buffer.dropped == 1


def test_values_that_are_not_finite_numbers_are_ignored_without_raising() -> None:
    # Given a buffer
    buffer = MetricBuffer(instance_id="p1")

    # When odd values are tracked
    results = [buffer.add("f", "on", "m", value, now=T0) for value in (float("nan"), 1e13)]
    results.append(buffer.add("f", "on", "m", "12", now=T0))  # type: ignore[arg-type]

    # Then each is refused and nothing is queued
    assert results == [False, False, False]
    assert buffer.take(now=T0, everything=True) == []
