"""Seed 001's RolloutManager and RollbackManager over release plans and rollbacks, on SQLite
and PostgreSQL, driven by hand with a controlled clock (``tick``, ``step_due``)."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from datetime import timedelta

import pytest

from rheostat import Context, FlagSet, service
from rheostat.clock import FixedClock
from rheostat.errors import ConfigurationError, NotFound, ValidationError
from rheostat.facade import (
    RollbackManager,
    RollbackStrategy,
    RolloutManager,
    RolloutPhase,
    RolloutStrategy,
)
from rheostat.service import Change, OutboxEvent, SqlStore, transact

ENV = "production"
USERS = [f"user{n}" for n in range(2000)]
SEEN: list[float] = []
BREAK_AT = {"percent": 1000.0}


def validate_model(percentage: float) -> bool:
    """Seed 001's validation function: healthy until ``BREAK_AT``."""
    SEEN.append(percentage)
    return percentage < BREAK_AT["percent"]


async def validate_model_async(percentage: float) -> bool:
    """The seed's ``async def validate_model(percentage)``."""
    await asyncio.sleep(0)
    return validate_model(percentage)


@pytest.fixture(autouse=True)
def _fresh_validation() -> None:
    SEEN.clear()
    BREAK_AT["percent"] = 1000.0


@pytest.fixture
def rollout(store: SqlStore) -> Iterator[RolloutManager]:
    manager = RolloutManager(store=store, environment=ENV)
    yield manager
    manager.close()


def _on(store: SqlStore, flag: str) -> int:
    flags = FlagSet.from_dict(transact(store, service.snapshot, ENV).document)
    return sum(flags.is_enabled(flag, Context(key=user)) for user in USERS)


def _run(manager: RolloutManager, clock: FixedClock, ticks: int) -> None:
    for _ in range(ticks):
        manager.tick()
        clock.advance(timedelta(minutes=6))


def test_a_canary_with_a_healthy_validation_function_completes(
    rollout: RolloutManager, store: SqlStore, clock: FixedClock
) -> None:
    # Given the seed's canary rollout with a validation function
    started = asyncio.run(
        rollout.start_rollout(
            "new_ner_model", strategy=RolloutStrategy.CANARY, validation_func=validate_model
        )
    )
    assert started.phase is RolloutPhase.RUNNING
    assert started.stages == 6

    # When the controller looks every 6 minutes
    rollout.tick()
    at_first = rollout.get_rollout_status("new_ner_model")
    clock.advance(timedelta(minutes=6))
    _run(rollout, clock, 12)

    # Then it went 1 -> 5 -> 10 -> 25 -> 50 -> 100 %, validated at each, and completed
    assert at_first.current_percentage == 1.0
    assert at_first.phase is RolloutPhase.BAKING
    status = rollout.get_rollout_status("new_ner_model")
    assert status.phase is RolloutPhase.COMPLETED
    assert status.phase.value == "completed"
    assert status.current_percentage == 100.0
    assert status.error is None
    assert sorted(set(SEEN)) == [0.0, 1.0, 5.0, 10.0, 25.0, 50.0, 100.0]  # 0: the first look
    assert _on(store, "new_ner_model") == len(USERS)


def test_an_async_validation_failure_rolls_the_rollout_back(
    rollout: RolloutManager, store: SqlStore, clock: FixedClock
) -> None:
    # Given a rollout whose (async) validation fails from 10 %
    BREAK_AT["percent"] = 10.0
    asyncio.run(
        rollout.start_rollout(
            "kb_enrichment",
            strategy=RolloutStrategy.CANARY,
            validation_func=validate_model_async,
            target_percentage=50,
        )
    )

    # When the controller looks until it stops
    _run(rollout, clock, 10)

    # Then it was rolled back at 10 %, with the reason, and nobody has the change
    status = rollout.get_rollout_status("kb_enrichment")
    assert status.phase is RolloutPhase.ROLLED_BACK
    assert status.current_percentage == 0.0
    assert "validation_func" in (status.error or "")
    assert max(SEEN) == 10.0
    assert _on(store, "kb_enrichment") == 0


@pytest.mark.parametrize(
    ("strategy", "options", "stages"),
    [
        (RolloutStrategy.BLUE_GREEN, {}, 2),
        (RolloutStrategy.PERCENTAGE, {}, 4),
        (RolloutStrategy.PERCENTAGE, {"percentages": [20, 60]}, 2),
        (RolloutStrategy.RING, {}, 3),
        (RolloutStrategy.CANARY, {"target_percentage": 30}, 5),
    ],
)
def test_each_seed_strategy_becomes_a_plan(
    rollout: RolloutManager, strategy: RolloutStrategy, options: dict[str, object], stages: int
) -> None:
    status = asyncio.run(rollout.start_rollout("flag_x", strategy=strategy, **options))  # type: ignore[arg-type]
    assert status.stages == stages
    assert status.plan == f"flag_x.{strategy.value}.1"


def test_a_validation_function_the_controller_cannot_import_is_refused(
    rollout: RolloutManager,
) -> None:
    with pytest.raises(ValidationError, match="module-level"):
        asyncio.run(rollout.start_rollout("x", validation_func=lambda percentage: True))
    with pytest.raises(NotFound):
        rollout.get_rollout_status("x")


def test_a_start_rollout_never_awaited_is_reported(rollout: RolloutManager) -> None:
    rollout.start_rollout("forgotten", validation_func=validate_model)
    gc.collect()
    with pytest.raises(ConfigurationError, match="without await"):
        rollout.get_rollout_status("forgotten")
    with pytest.raises(NotFound):  # it did nothing; the next call works again
        rollout.get_rollout_status("forgotten")


# RollbackManager --------------------------------------------------------------------------------


@pytest.fixture
def rollback(store: SqlStore) -> Iterator[RollbackManager]:
    manager = RollbackManager(store=store, environment=ENV)
    transact(store, service.create_flag, ENV, "new_ner_model", {}, change=Change(actor="s"))
    transact(
        store, service.set_rollout_percentage, ENV, "new_ner_model", 40, change=Change(actor="s")
    )
    yield manager
    manager.close()


def test_the_seed_rollbacks_and_their_history(rollback: RollbackManager, store: SqlStore) -> None:
    # Given a hook
    heard: list[OutboxEvent] = []
    rollback.add_hook(heard.append)

    # When the seed's three rollbacks run
    targeted = asyncio.run(
        rollback.rollback_targeted("new_ner_model", reason="User reports", user_ids=["user1"])
    )
    immediate = asyncio.run(
        rollback.rollback_immediate("new_ner_model", reason="High error rate detected")
    )
    to_version = asyncio.run(
        rollback.rollback_immediate("new_ner_model", reason="back", rollback_to_version="2")
    )

    # Then each is recorded, newest first, and the hook heard each after commit
    assert targeted.strategy is RollbackStrategy.TARGETED
    assert immediate.to_percentage == 0.0
    assert immediate.from_percentage == 40.0
    assert to_version.strategy is RollbackStrategy.VERSION
    history = rollback.get_rollback_history("new_ner_model")
    assert [(r.strategy, r.reason) for r in history] == [
        (RollbackStrategy.VERSION, "back"),
        (RollbackStrategy.IMMEDIATE, "High error rate detected"),
        (RollbackStrategy.TARGETED, "User reports"),
    ]
    assert [r.rollback_id for r in rollback.get_rollback_history()] == [
        r.rollback_id for r in history
    ]
    started = [e for e in heard if e.type == "rollback.started"]
    assert [e.data["mode"] for e in started] == ["targeted", "immediate", "version"]
    assert 700 < _on(store, "new_ner_model") < 900  # back to version 2: 40 %


def test_a_gradual_rollback_steps_down_when_due(
    rollback: RollbackManager, store: SqlStore, clock: FixedClock
) -> None:
    result = asyncio.run(
        rollback.rollback_gradual("new_ner_model", reason="Performance", stages=[75, 50, 0])
    )
    assert (result.status, result.to_percentage) == ("running", 30.0)
    assert rollback.step_due() == []
    clock.advance(timedelta(minutes=5))
    assert [r.to_percentage for r in rollback.step_due()] == [20.0]
    clock.advance(timedelta(minutes=5))
    done = rollback.step_due()
    assert [(r.status, r.to_percentage) for r in done] == [("completed", 0.0)]
    assert _on(store, "new_ner_model") == 0


def test_a_rollback_stops_a_running_rollout(
    rollback: RollbackManager, rollout: RolloutManager, clock: FixedClock
) -> None:
    # Given a canary at its first stages
    asyncio.run(rollout.start_rollout("new_ner_model", validation_func=validate_model))
    _run(rollout, clock, 3)
    assert rollout.get_rollout_status("new_ner_model").current_percentage > 0

    # When it is rolled back with the RollbackManager, and the controller keeps looking
    result = asyncio.run(rollback.rollback_immediate("new_ner_model", reason="pager"))
    _run(rollout, clock, 5)

    # Then the rollout stopped, and never ramped the flag up again
    status = rollout.get_rollout_status("new_ner_model")
    assert result.plans_stopped == (status.plan,)
    assert status.phase is RolloutPhase.FAILED
    assert "rolled back" in (status.error or "") or "aborted" in (status.error or "")
