"""Parity: seed 003's thresholds, checksum differences, per-group judgement and its action."""

from __future__ import annotations

import pytest

from rheostat.backfill import ChunkSum
from rheostat.migrate import (
    ParityAction,
    ParityLevel,
    ParityThresholds,
    assess_parity,
    classify,
)


def rows(count: int, salt: int = 0) -> ChunkSum:
    return ChunkSum(count, count * 7 + salt, count * 11 + salt)


@pytest.mark.parametrize(
    ("old", "new", "level"),
    [
        (1000, 1000, ParityLevel.OK),
        (1000, 991, ParityLevel.OK),  # delta 9 < 10
        (1000, 990, ParityLevel.DRIFT),  # delta 10: not ok, not yet a warning
        (1000, 900, ParityLevel.DRIFT),  # delta 100 is not above 100
        (1000, 899, ParityLevel.WARNING),
        (5000, 4000, ParityLevel.WARNING),  # delta 1000 is not above 1000
        (5000, 3999, ParityLevel.CRITICAL),
        (0, 2000, ParityLevel.CRITICAL),  # extra rows in the new table count as well
    ],
)
def test_seed_003_thresholds_are_the_defaults(old: int, new: int, level: ParityLevel) -> None:
    assert classify(rows(old), rows(new), ParityThresholds()) is level


def test_equal_counts_with_different_content_are_a_checksum_mismatch() -> None:
    # Given the same number of rows, one of them changed
    old, new = rows(500), rows(500, salt=1)
    # Then the default judges it a warning, and a stricter migration a critical
    assert classify(old, new, ParityThresholds()) is ParityLevel.WARNING
    strict = ParityThresholds(checksum_mismatch=ParityLevel.CRITICAL)
    assert classify(old, new, strict) is ParityLevel.CRITICAL


def test_a_critical_table_calls_for_a_rollback() -> None:
    report = assess_parity("orders", old_table=rows(10_000), new_table=rows(8_000))
    assert report.level is ParityLevel.CRITICAL
    assert report.action is ParityAction.ROLLBACK
    assert report.to_dict()["row_delta"] == -2000


def test_one_critical_pilot_org_calls_for_a_rollback_of_that_org_only() -> None:
    # Given a table within bounds overall, but one pilot org missing 1500 rows
    report = assess_parity(
        "orders",
        old_table=rows(1_000_000),
        new_table=rows(1_000_000 - 1500 + 1450),
        old_groups={"17": rows(3000), "42": rows(50)},
        new_groups={"17": rows(1500), "42": rows(50), "99": rows(1450)},
        group_by="org_id",
    )
    # Then the groups come out worst first, the table is judged on its own delta of 50
    assert [part.group for part in report.groups] == ["17", "99", "42"]
    assert report.table.level is ParityLevel.DRIFT
    assert report.level is ParityLevel.CRITICAL
    assert report.critical_groups == ("17", "99")
    assert report.action is ParityAction.ROLLBACK_GROUPS
    assert report.worst_group_delta == 1500
    assert not report.is_synced


def test_identical_sides_are_synced_and_continue() -> None:
    report = assess_parity(
        "orders",
        old_table=rows(10),
        new_table=rows(10),
        old_groups={"a": rows(10)},
        new_groups={"a": rows(10)},
    )
    assert report.is_synced
    assert report.checksum_mismatches == 0
    assert report.action is ParityAction.CONTINUE
    assert report.to_dict()["groups"] == [
        {
            "group": "a",
            "old_rows": 10,
            "new_rows": 10,
            "row_delta": 0,
            "checksum_matches": True,
            "level": "ok",
        }
    ]
