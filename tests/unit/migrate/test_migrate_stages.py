"""Stages and routing: each stage sends reads, compares and writes where the table says."""

from __future__ import annotations

import pytest

from rheostat.errors import ValidationError
from rheostat.migrate import (
    FLAGGED_STAGES,
    Stage,
    StoreSide,
    route,
    stage_flag_key,
    stage_flag_keys,
    stage_of,
    stage_salt,
)

OLD, NEW = StoreSide.OLD, StoreSide.NEW


@pytest.mark.parametrize(
    ("stage", "read", "compare", "writes"),
    [
        (Stage.OFF, OLD, None, (OLD,)),
        (Stage.DUAL_WRITE, OLD, None, (OLD, NEW)),
        (Stage.SHADOW, OLD, NEW, (OLD, NEW)),
        (Stage.LIVE, NEW, OLD, (NEW, OLD)),
        (Stage.RAMPDOWN, NEW, None, (NEW, OLD)),
        (Stage.COMPLETE, NEW, None, (NEW,)),
    ],
)
def test_each_stage_routes_as_the_table_says(
    stage: Stage, read: StoreSide, compare: StoreSide | None, writes: tuple[StoreSide, ...]
) -> None:
    # When
    plan = route(stage)
    # Then
    assert (plan.stage, plan.read, plan.compare_read, plan.writes) == (stage, read, compare, writes)


def test_the_old_store_is_authoritative_until_live() -> None:
    authoritative = {stage: (route(stage).read, route(stage).write) for stage in Stage}
    assert all(authoritative[s] == (OLD, OLD) for s in Stage if s.rank < Stage.LIVE.rank)
    assert all(authoritative[s] == (NEW, NEW) for s in Stage if s.rank >= Stage.LIVE.rank)


def test_every_stage_before_complete_can_be_rolled_back_without_losing_a_write() -> None:
    assert [s for s in Stage if not route(s).is_rollback_safe] == [Stage.COMPLETE]


def test_the_highest_stage_whose_flag_is_on_wins() -> None:
    assert stage_of({}) is Stage.OFF
    assert stage_of({Stage.DUAL_WRITE: True}) is Stage.DUAL_WRITE
    assert stage_of({Stage.DUAL_WRITE: True, Stage.SHADOW: True, Stage.LIVE: False}) is Stage.SHADOW
    # Rolling back `live` drops to the next stage on: one step back, not to off
    assert stage_of({Stage.SHADOW: True, Stage.LIVE: True}) is Stage.LIVE
    assert stage_of(dict.fromkeys(FLAGGED_STAGES, True)) is Stage.COMPLETE


def test_stage_flags_are_named_after_the_migration_and_share_one_salt() -> None:
    assert stage_flag_key("orders", Stage.LIVE) == "migrate.orders.live"
    assert list(stage_flag_keys("orders").values()) == [
        "migrate.orders.dual_write",
        "migrate.orders.shadow",
        "migrate.orders.live",
        "migrate.orders.rampdown",
        "migrate.orders.complete",
    ]
    assert stage_salt("orders") == "migrate.orders"
    with pytest.raises(ValidationError, match="'off' has no flag"):
        stage_flag_key("orders", Stage.OFF)
