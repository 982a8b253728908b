"""The Migrator: routes reads and writes by the stage flags, records mismatches and errors.

Real ``FlagSet`` evaluation (pilot segment, percentage split); stores are in-memory dicts.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from rheostat import Context, FlagSet
from rheostat.clock import FixedClock
from rheostat.migrate import Stage, stage_flag_definitions
from rheostat.sdk.migrator import Migrator, Mismatch

PILOT = Context(key="org-17", attributes={"org_id": "org-17"})
OTHER = Context(key="org-99", attributes={"org_id": "org-99"})


def flags(**rules: list[dict[str, Any]]) -> FlagSet:
    """The migration ``orders``'s stage flags; ``rules`` by stage name."""
    definitions = stage_flag_definitions("orders")
    for stage, stage_rules in rules.items():
        definitions[f"migrate.orders.{stage}"]["rules"] = stage_rules
    return FlagSet.from_dict(
        {
            "version": 1,
            "segments": {
                "pilot-orgs": {
                    "conditions": [{"attribute": "org_id", "op": "in", "values": ["org-17"]}]
                }
            },
            "flags": definitions,
        }
    )


EVERYONE = [{"serve": "on"}]
PILOT_ONLY = [
    {"when": [{"attribute": "org_id", "op": "in_segment", "values": ["pilot-orgs"]}], "serve": "on"}
]


class Stores:
    """Two stores that log what touched them."""

    def __init__(self, old: Any = "old-answer", new: Any = "new-answer") -> None:
        self.log: list[str] = []
        self.answers = {"old": old, "new": new}
        self.failing: set[str] = set()

    def op(self, name: str, side: str) -> Any:
        def call() -> Any:
            self.log.append(f"{name}:{side}")
            if side in self.failing:
                raise ConnectionError(f"{side} store down")
            return self.answers[side]

        return call

    def write(self, migrator: Migrator, context: Context) -> Any:
        return migrator.write(self.op("write", "old"), self.op("write", "new"), context=context)

    def read(self, migrator: Migrator, context: Context, **options: Any) -> Any:
        return migrator.read(
            self.op("read", "old"), self.op("read", "new"), context=context, **options
        )


class Tracked:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, float | bool, tuple[str, ...]]] = []

    def track(
        self,
        metric: str,
        context: Context | str,
        value: float | bool = True,
        *,
        flags: Iterable[str] | None = None,
    ) -> None:
        key = context.key if isinstance(context, Context) else context
        self.calls.append((metric, key, value, tuple(flags or ())))


@pytest.mark.parametrize(
    ("rules", "stage", "writes", "reads", "answer"),
    [
        ({}, Stage.OFF, ["write:old"], ["read:old"], "old-answer"),
        ({"dual_write": EVERYONE}, Stage.DUAL_WRITE, ["write:old", "write:new"], ["read:old"],
         "old-answer"),
        ({"dual_write": EVERYONE, "shadow": EVERYONE}, Stage.SHADOW, ["write:old", "write:new"],
         ["read:old", "read:new"], "old-answer"),
        ({"shadow": EVERYONE, "live": EVERYONE}, Stage.LIVE, ["write:new", "write:old"],
         ["read:new", "read:old"], "new-answer"),
        ({"rampdown": EVERYONE}, Stage.RAMPDOWN, ["write:new", "write:old"], ["read:new"],
         "new-answer"),
        ({"live": EVERYONE, "complete": EVERYONE}, Stage.COMPLETE, ["write:new"], ["read:new"],
         "new-answer"),
    ],
)  # fmt: skip
def test_each_stage_routes_reads_and_writes(
    rules: dict[str, list[dict[str, Any]]],
    stage: Stage,
    writes: list[str],
    reads: list[str],
    answer: str,
) -> None:
    # Given the stage flags of one stage on for everyone
    migrator = Migrator("orders", flags(**rules), clock=FixedClock())
    stores = Stores()
    # When one write and one read go through it
    assert migrator.stage(OTHER) is stage
    written = stores.write(migrator, OTHER)
    log_after_write = list(stores.log)
    read = stores.read(migrator, OTHER)
    # Then they touched the stores in the stage's order and the primary answered
    assert log_after_write == writes
    assert stores.log[len(writes) :] == reads
    assert written == read == answer


def test_a_pilot_segment_is_live_while_everyone_else_is_in_shadow() -> None:
    # Given shadow for everyone and live for the pilot orgs
    migrator = Migrator(
        "orders", flags(dual_write=EVERYONE, shadow=EVERYONE, live=PILOT_ONLY), clock=FixedClock()
    )
    stores = Stores()
    # Then the pilot org reads the new store, the others the old one
    assert stores.read(migrator, PILOT) == "new-answer"
    assert stores.read(migrator, OTHER) == "old-answer"
    assert migrator.stats.snapshot()["stages"] == {"live": 1, "shadow": 1}


def test_a_percentage_ramp_of_live_nests_inside_shadow() -> None:
    # Given shadow at 50 % and live at 10 %, sharing the migration's salt
    split_live = [{"serve": {"split": {"on": 10, "off": 90}}}]
    split_shadow = [{"serve": {"split": {"on": 50, "off": 50}}}]
    migrator = Migrator("orders", flags(shadow=split_shadow, live=split_live))
    fs = flags(shadow=split_shadow, live=split_live)
    # When a thousand orgs are routed
    keys = [f"org-{n}" for n in range(1000)]
    stages = [migrator.stage(key) for key in keys]
    # Then every live org is also in shadow's half (rolling live back leaves it in shadow)
    live = [key for key, stage in zip(keys, stages, strict=True) if stage is Stage.LIVE]
    assert 50 < len(live) < 150
    assert all(fs.is_enabled("migrate.orders.shadow", key) for key in live)


def test_shadow_reads_compare_a_sampled_fraction_and_record_mismatches() -> None:
    # Given shadow for everyone, a 25 % sample and stores that disagree
    seen: list[Mismatch] = []
    tracked = Tracked()
    migrator = Migrator(
        "orders",
        flags(shadow=EVERYONE),
        sample_rate=0.25,
        on_mismatch=seen.append,
        tracker=tracked,
        clock=FixedClock(),
    )
    stores = Stores(old=[1, 2, 3], new=[1, 2])
    # When 100 reads go through
    answers = {repr(stores.read(migrator, OTHER)) for _ in range(100)}
    # Then all got the old store's answer, exactly 25 were compared, all mismatched
    assert answers == {"[1, 2, 3]"}
    assert stores.log.count("read:new") == 25
    stats = migrator.stats.snapshot()
    assert (stats["compared"], stats["mismatched"]) == (25, 25)
    assert len(seen) == 25
    assert seen[0].stage is Stage.SHADOW
    assert (seen[0].old, seen[0].new, seen[0].context_key) == ([1, 2, 3], [1, 2], "org-99")
    # And each compare was tracked as the mismatch proportion, for every stage flag
    mismatches = [call for call in tracked.calls if call[0] == "migrate_mismatch"]
    assert len(mismatches) == 25
    assert all(call[2] is True for call in mismatches)
    assert "migrate.orders.live" in mismatches[0][3]


def test_a_custom_compare_decides_and_matching_answers_are_no_mismatch() -> None:
    migrator = Migrator("orders", flags(shadow=EVERYONE))
    stores = Stores(old=[3, 1, 2], new=[1, 2, 3])
    stores.read(migrator, OTHER, compare=lambda old, new: sorted(old) == sorted(new))
    assert (migrator.stats.compared, migrator.stats.mismatched) == (1, 0)
    stores.read(migrator, OTHER)  # default ==: the order differs
    assert (migrator.stats.compared, migrator.stats.mismatched) == (2, 1)


def test_a_compare_that_raises_is_a_mismatch_not_an_error_for_the_caller() -> None:
    migrator = Migrator("orders", flags(shadow=EVERYONE))

    def broken(old: object, new: object) -> bool:
        raise TypeError("cannot compare")

    assert Stores().read(migrator, OTHER, compare=broken) == "old-answer"
    assert migrator.stats.mismatched == 1
    assert migrator.stats.recent_mismatches[0].error == "compare raised TypeError: cannot compare"


def test_the_secondary_store_failing_never_reaches_the_caller() -> None:
    # Given shadow, with the new store down
    tracked = Tracked()
    migrator = Migrator("orders", flags(shadow=EVERYONE), tracker=tracked)
    stores = Stores()
    stores.failing.add("new")
    # When writing and reading
    assert stores.write(migrator, OTHER) == "old-answer"
    assert stores.read(migrator, OTHER) == "old-answer"
    # Then the errors are counted for the new side, and the failed read is not a mismatch
    stats = migrator.stats.snapshot()
    assert stats["errors"] == {"write_old": 0, "write_new": 1, "read_old": 0, "read_new": 1}
    assert (stats["compared"], stats["mismatched"]) == (0, 0)
    errors = {(m, v) for m, _, v, _ in tracked.calls if "error" in m}
    assert ("migrate_write_error_new", True) in errors
    assert ("migrate_write_error_old", False) in errors


def test_the_primary_store_failing_raises_and_skips_the_secondary_write() -> None:
    migrator = Migrator("orders", flags(live=EVERYONE))
    stores = Stores()
    stores.failing.add("new")
    with pytest.raises(ConnectionError, match="new store down"):
        stores.write(migrator, OTHER)
    assert stores.log == ["write:new"]
    assert migrator.stats.errors["write_new"] == 1


def test_latency_is_recorded_per_side_from_the_clock() -> None:
    # Given a clock that moves 5 ms whenever the old store is read
    clock = FixedClock()
    tracked = Tracked()
    migrator = Migrator("orders", flags(), clock=clock, tracker=tracked)

    def slow_old() -> str:
        from datetime import timedelta

        clock.advance(timedelta(milliseconds=5))
        return "old"

    migrator.read(slow_old, lambda: "new", context=OTHER)
    assert migrator.stats.latency_ms == {"read_old": pytest.approx(5.0)}
    assert ("migrate_read_ms_old", "org-99", pytest.approx(5.0)) in [c[:3] for c in tracked.calls]


class BrokenFlags:
    def is_enabled(self, key: str, context: Context | str, default: bool = False) -> bool:
        raise RuntimeError("flag source broken")


def test_routing_never_raises_and_falls_back_to_the_old_store() -> None:
    migrator = Migrator("orders", BrokenFlags())
    stores = Stores()
    assert stores.write(migrator, OTHER) == "old-answer"
    assert stores.read(migrator, OTHER) == "old-answer"
    assert stores.log == ["write:old", "read:old"]
    assert migrator.stats.routing_errors == 2


def test_unknown_flags_mean_off_and_a_tracker_that_fails_is_ignored() -> None:
    class FailingTracker(Tracked):
        def track(self, *args: Any, **kwargs: Any) -> None:
            raise RuntimeError("metrics down")

    migrator = Migrator("orders", FlagSet.from_dict({"version": 1}), tracker=FailingTracker())
    assert Stores().read(migrator, OTHER) == "old-answer"
    assert migrator.stage(None) is Stage.OFF


@pytest.mark.parametrize("rate", [-0.1, 1.5, "half"])
def test_a_sample_rate_outside_0_to_1_is_refused(rate: Any) -> None:
    with pytest.raises(ValueError, match="sample_rate"):
        Migrator("orders", flags(), sample_rate=rate)
