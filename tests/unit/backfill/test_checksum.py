"""Chunk checksums: equal rows give equal sums in any order; any change, loss or duplicate shows."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from rheostat.backfill import ChunkSum, compare_chunks, row_text, sum_rows

ROWS = st.lists(st.tuples(st.integers(), st.text(), st.none() | st.floats(allow_nan=False)))


@given(ROWS, st.randoms())
def test_the_sum_does_not_depend_on_row_order(rows: list[tuple[object, ...]], rnd: object) -> None:
    shuffled = list(rows)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]

    assert sum_rows(shuffled) == sum_rows(rows)


@given(ROWS.filter(bool))
def test_a_duplicated_or_lost_row_changes_the_sum(rows: list[tuple[object, ...]]) -> None:
    assert sum_rows([*rows, rows[0]]) != sum_rows(rows)
    assert sum_rows(rows[1:]) != sum_rows(rows)


def test_values_render_the_same_whatever_their_python_type() -> None:
    assert row_text([1, 1.0, Decimal("1.000")]) == "1|1|1"
    assert row_text([None, True, Decimal("2.50")]) == "\\N|true|2.5"
    assert row_text([datetime(2026, 1, 2, tzinfo=UTC)]) == "2026-01-02T00:00:00+00:00"


def test_the_report_names_differing_ranges_and_is_identical_only_with_none() -> None:
    same = ChunkSum(10, 5, 6)
    report = compare_chunks(
        [(None, (10,), same, same), ((10,), None, ChunkSum(3, 1, 1), ChunkSum(4, 1, 2))]
    )
    clean = compare_chunks([(None, None, same, same)])

    assert not report.identical
    assert [(d.low, d.high, d.row_delta) for d in report.differences] == [((10,), None, 1)]
    assert report.source_rows == 13
    assert report.target_rows == 14
    assert clean.identical
