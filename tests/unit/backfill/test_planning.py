"""Batch sizing, throttle decisions, progress, keys and strategy: pure decisions."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rheostat.backfill import (
    BatchSettings,
    BatchTiming,
    Probe,
    Strategy,
    ThrottleReading,
    ThrottleSettings,
    choose_strategy,
    decide_throttle,
    decode_key,
    encode_key,
    job_from_dict,
    next_batch_size,
    progress,
    same_database,
)

SETTINGS = BatchSettings(size=1000, target_seconds=0.5, min_size=10, max_size=100_000)


def test_a_fast_batch_grows_the_next_one_but_at_most_fourfold() -> None:
    size, rate = next_batch_size(SETTINGS, BatchTiming(1000, 1000, 0.01), None)

    assert size == 4000
    assert rate == pytest.approx(100_000)


def test_a_slow_batch_shrinks_the_next_one_but_at_most_by_half() -> None:
    size, _ = next_batch_size(SETTINGS, BatchTiming(1000, 1000, 2.0), None)

    assert size == 500


def test_a_batch_far_over_its_target_drops_to_a_tenth_at_once() -> None:
    size, _ = next_batch_size(SETTINGS, BatchTiming(1000, 1000, 2.5), None)

    assert size == 100


def test_the_size_settles_where_a_batch_takes_its_target_time() -> None:
    size, rate = 1000, None
    for _ in range(30):  # a database that copies 8,000 rows/s
        size, rate = next_batch_size(SETTINGS, BatchTiming(size, size, size / 8000), rate)

    assert size == pytest.approx(4000, rel=0.01)


def test_a_short_last_batch_and_a_fixed_size_leave_the_size_alone() -> None:
    assert next_batch_size(SETTINGS, BatchTiming(1000, 10, 0.001), None)[0] == 1000
    fixed = BatchSettings(size=1000, target_seconds=0)
    assert next_batch_size(fixed, BatchTiming(1000, 1000, 0.001), None)[0] == 1000


@given(
    size=st.integers(10, 100_000),
    rows=st.integers(0, 100_000),
    seconds=st.floats(0, 1000, allow_nan=False),
    rate=st.none() | st.floats(0, 1e9, allow_nan=False),
)
def test_the_size_stays_within_its_bounds(
    size: int, rows: int, seconds: float, rate: float | None
) -> None:
    new, _ = next_batch_size(SETTINGS, BatchTiming(size, min(rows, size), seconds), rate)

    assert SETTINGS.min_size <= new <= SETTINGS.max_size
    assert new <= max(size * 4, SETTINGS.min_size)


def test_the_rate_limit_waits_exactly_enough() -> None:
    settings = ThrottleSettings(max_rows_per_second=1000)

    decision = decide_throttle(
        settings, ThrottleReading(rows_done_in_window=3000, window_seconds=2)
    )
    unhurried = decide_throttle(
        settings, ThrottleReading(rows_done_in_window=3000, window_seconds=4)
    )

    assert decision.wait_seconds == pytest.approx(1.0)
    assert not decision.go
    assert unhurried.go


def test_a_wait_under_a_millisecond_is_no_wait() -> None:
    settings = ThrottleSettings(max_rows_per_second=1000)

    almost = decide_throttle(
        settings, ThrottleReading(rows_done_in_window=3000, window_seconds=2.9999999)
    )

    assert almost.go


def test_lag_and_probes_over_their_limits_pause_and_a_failed_probe_pauses_too() -> None:
    settings = ThrottleSettings(
        replication_lag_seconds=10,
        probes=(Probe(kind="sql", target="SELECT 1", max=5),),
        pause_seconds=2,
    )

    lagging = decide_throttle(settings, ThrottleReading(replication_lag_seconds=12))
    loaded = decide_throttle(settings, ThrottleReading(probes=(("load", 7.0, 5.0),)))
    broken = decide_throttle(settings, ThrottleReading(probes=(("load", None, 5.0),)))
    fine = decide_throttle(
        settings, ThrottleReading(replication_lag_seconds=3, probes=(("load", 1.0, 5.0),))
    )

    assert lagging.wait_seconds == 2
    assert "replication lag" in lagging.reasons[0]
    assert loaded.wait_seconds == 2
    assert "above 5" in loaded.reasons[0]
    assert broken.wait_seconds == 2
    assert "failed" in broken.reasons[0]
    assert fine.go
    assert fine.reasons == ()


def test_progress_and_eta() -> None:
    now = progress(rows_done=2500, rows_total=10_000, run_rows=2000, run_seconds=4)

    assert now.rows_per_second == 500
    assert now.eta_seconds == 15
    assert now.percent == 25
    assert progress(0, None, 0, 0).eta_seconds is None


@pytest.mark.parametrize(
    "key",
    [
        (1,),
        ("org-1", 42),
        (datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), date(2026, 1, 2)),
        (Decimal("1.50"), UUID(int=7), b"\x00\xff", 1.25, None, True),
    ],
)
def test_keys_keep_their_types_through_json(key: tuple[object, ...]) -> None:
    assert decode_key(encode_key(key)) == key


def test_same_database_ignores_drivers_passwords_and_default_ports() -> None:
    assert same_database("postgresql://a:x@db/app", "postgresql+psycopg://a:y@db:5432/app")
    assert not same_database("postgresql://db/app", "postgresql://db/other")
    assert same_database("sqlite:///./a.db", "sqlite:///./a.db")
    assert not same_database("sqlite:///a.db", "sqlite:///b.db")


def test_server_side_only_for_one_database_and_no_transform() -> None:
    base = {
        "backfill": "x",
        "source": {"url": "sqlite:///a.db", "table": "a", "key": "id"},
        "target": {"url": "sqlite:///a.db", "table": "b", "key": "id"},
        "columns": {"id": "id"},
    }

    assert choose_strategy(job_from_dict(base, {})) is Strategy.SERVER_SIDE
    assert choose_strategy(job_from_dict({**base, "transform": "m:f"}, {})) is Strategy.STREAMED
    other = {**base, "target": {"url": "sqlite:///b.db", "table": "b", "key": "id"}}
    assert choose_strategy(job_from_dict(other, {})) is Strategy.STREAMED


def test_range_split_gives_each_worker_several_ranges_of_at_least_the_minimum() -> None:
    from rheostat.backfill import range_split
    from rheostat.backfill.planning import MIN_RANGE_ROWS, RANGES_PER_WORKER

    # a big table: four ranges per worker, covering every row
    ranges, per_range = range_split(1_000_000, 3)
    assert ranges == 3 * RANGES_PER_WORKER
    assert ranges * per_range >= 1_000_000
    # a small one: fewer, bigger ranges; an empty one: a single open range
    assert range_split(25_000, 4) == (25_000 // MIN_RANGE_ROWS, 12_500)
    assert range_split(0, 4) == (1, 1)
    assert range_split(5, 8) == (1, 5)


def test_the_nice_ratio_rests_in_proportion_to_each_batch() -> None:
    from rheostat.backfill import ThrottleSettings, nice_wait

    assert nice_wait(ThrottleSettings(), 0.5) == 0.0
    assert nice_wait(ThrottleSettings(nice_ratio=1.0), 0.5) == 0.5
    assert nice_wait(ThrottleSettings(nice_ratio=0.5), 0.2) == 0.1
    assert nice_wait(ThrottleSettings(nice_ratio=0.5), 0.0001) == 0.0
