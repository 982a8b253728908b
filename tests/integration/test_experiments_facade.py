"""Seed 001's ``ABTestManager`` example, on the rheostat store."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta

import pytest

import rheostat
from rheostat.clock import FixedClock
from rheostat.errors import Conflict, NotFound, ValidationError
from rheostat.experiments import MetricKind, MetricSpec
from rheostat.facade import ABTestManager, TestResults, TestVariant
from rheostat.service import migrate_database, open_store

USERS = [f"user{number}" for number in range(300)]


@pytest.fixture
def manager(store_url: str, clock: FixedClock) -> Iterator[ABTestManager]:
    opened = ABTestManager(
        database_url=store_url, environment="production", commit_sha="c0ffee1", clock=clock
    )
    yield opened
    opened.close()


def _latency(variant: str | None, user: str) -> float:
    """The treatment is about 10 ms faster; a small deterministic spread per user."""
    spread = int(user.removeprefix("user")) * 7 % 23 - 11
    return (140.0 if variant == TestVariant.TREATMENT else 150.0) + spread


def test_the_seed_example_runs_as_written(manager: ABTestManager, clock: FixedClock) -> None:
    async def seed_example() -> tuple[object, object]:
        # Given the seed's test (latency named as lower-is-better)
        test = manager.create_test(
            test_id="biobert_vs_pubmedbert",
            description="Compare NER models",
            control_component="biobert",
            treatment_component="pubmedbert",
            traffic_split=0.5,
            duration_days=7,
            tracked_metrics=[MetricSpec(name="latency", higher_is_better=False), "accuracy"],
        )
        await manager.start_test(test.test_id)

        # When users are assigned and their metrics recorded, as in the seed
        for user in USERS:
            variant = manager.get_variant(test.test_id, user_id=user)
            manager.record_metric(test.test_id, variant, "latency", _latency(variant, user))
            manager.record_metric(test.test_id, variant, "accuracy", 0.92)
        clock.advance(timedelta(minutes=1))
        results = manager.get_test_results(test.test_id)
        stopped = await manager.stop_test(test.test_id)
        return results, stopped

    results, stopped = asyncio.run(seed_example())

    # Then the seed's printout works and says the treatment is better
    assert isinstance(results, TestResults)
    assert f"{results.control_mean['latency']:.2f}ms".endswith("ms")
    assert results.control_mean["latency"] is not None
    assert results.treatment_mean["latency"] is not None
    assert results.treatment_mean["latency"] < results.control_mean["latency"]
    improvement = results.improvement["latency"]
    assert improvement is not None
    assert 0.04 < improvement < 0.09
    assert results.significant
    assert results.valid
    assert results.invalid_reasons == ()
    assert results.p_values["latency"] is not None
    assert results.p_values["latency"] < 0.001
    assert results.control.units + results.treatment.units == len(USERS)
    assert results.control.metrics["latency"].ci_lower is not None
    assert results.comparisons["latency"].relative.ci_upper is not None
    assert not results.srm.mismatch
    assert getattr(stopped, "status", None) == "stopped"


def test_variants_are_sticky_and_stopping_serves_control(manager: ABTestManager) -> None:
    # Given a running test
    manager.create_test("sticky", traffic_split=0.3)
    asyncio.run(manager.start_test("sticky"))

    # When users ask twice, then after the test stops
    first = [manager.get_variant("sticky", user) for user in USERS[:150]]
    second = [manager.get_variant("sticky", user) for user in USERS[:50]]
    asyncio.run(manager.stop_test("sticky"))
    after = {manager.get_variant("sticky", user) for user in USERS[:50]}

    # Then the answers repeat, roughly 30 % are treated, and a stopped test serves control
    assert first[:50] == second
    assert 0.2 < first.count(TestVariant.TREATMENT) / len(first) < 0.4
    assert after == {TestVariant.CONTROL}


def test_the_facade_refuses_bad_input_clearly(manager: ABTestManager) -> None:
    # Given a draft test and a running one with a proportion metric
    manager.create_test("draft")
    manager.create_test(
        "running", tracked_metrics=[MetricSpec(name="bought", kind=MetricKind.PROPORTION)]
    )
    asyncio.run(manager.start_test("running"))

    # When it is misused / Then each error says what is wrong
    with pytest.raises(ValidationError, match="traffic_split"):
        manager.create_test("bad-split", traffic_split=1.5)
    with pytest.raises(Conflict, match="start it first"):
        manager.record_metric("draft", TestVariant.CONTROL, "latency", 1.0)
    with pytest.raises(NotFound, match="experiment 'missing' does not exist"):
        manager.get_test_results("missing")
    with pytest.raises(ValidationError, match="never exposed"):
        manager.record_conversion("running", "nobody", "bought")
    manager.get_variant("running", "user1")
    assert manager.record_conversion("running", "user1", "bought") is True
    assert manager.record_conversion("running", "user1", "bought") is False


def test_a_shared_store_and_the_seed_positionals_are_accepted(
    store_url: str, clock: FixedClock
) -> None:
    # Given an open store, and the seed's two collaborators (not needed by rheostat)
    migrate_database(store_url)
    store = open_store(store_url, clock=clock)
    try:
        manager = rheostat.ABTestManager(object(), object(), store=store)

        # When a test is created through it / Then it lives in that store's production
        manager.create_test("shared")
        assert manager.get_test("shared").status == "draft"
        manager.close()  # leaves the shared store open
        assert store.schema_revision() is not None
    finally:
        store.close()


def test_a_forgotten_await_fails_loudly_on_the_next_call(
    manager: ABTestManager, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a draft test
    manager.create_test(test_id="forgotten")

    # When start_test is called without await
    manager.start_test("forgotten")  # the mistake: a call whose result is dropped

    # Then an ERROR is logged, the next call raises saying so, and the test did not start
    message = (
        "ABTestManager.start_test('forgotten') was called without await: the test was not"
        " started; write `await manager.start_test('forgotten')`"
    )
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [("ERROR", message)]
    with pytest.raises(rheostat.ConfigurationError) as raised:
        manager.get_test("forgotten")
    assert raised.value.message == message
    assert manager.get_test("forgotten").status == "draft"  # raised once, then reported


def test_a_forgotten_stop_is_reported_by_the_next_start(manager: ABTestManager) -> None:
    # Given a running test whose stop_test was not awaited
    manager.create_test(test_id="unstopped")
    asyncio.run(manager.start_test("unstopped"))
    manager.stop_test("unstopped")

    # When / Then the next call, even an async one, raises naming the stop
    with pytest.raises(rheostat.ConfigurationError, match=r"stop_test\('unstopped'\) was called"):
        asyncio.run(manager.start_test("unstopped"))
    assert manager.get_test("unstopped").status == "running"


def test_awaited_calls_run_alone_and_gathered(manager: ABTestManager) -> None:
    # Given three draft tests
    keys = ["first", "second", "third"]
    for key in keys:
        manager.create_test(test_id=key)

    async def start_and_stop() -> None:
        # When the first is awaited alone and all are stopped with gather
        await manager.start_test("first")
        await asyncio.gather(*(manager.start_test(key) for key in keys[1:]))
        await asyncio.gather(*(manager.stop_test(key) for key in keys))

    asyncio.run(start_and_stop())

    # Then each was started and stopped, and nothing is reported as forgotten
    assert [manager.get_test(key).status for key in keys] == ["stopped"] * 3
    assert all(manager.get_test(key).started_at is not None for key in keys)
