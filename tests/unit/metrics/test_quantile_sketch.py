"""``QuantileSketch``: quantiles within 1 % of the data's, from bins that add up exactly."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rheostat.errors import ValidationError
from rheostat.metrics import MetricWindow, QuantileSketch, WindowKind, WindowTotals
from rheostat.metrics.sketch import MAX_BINS, RELATIVE_ACCURACY

VALUES = st.lists(
    st.one_of(
        st.floats(min_value=1e-6, max_value=1e9),
        st.floats(min_value=-1e9, max_value=-1e-6),
        st.just(0.0),
    ),
    min_size=1,
    max_size=300,
)
QUANTILES = st.floats(min_value=0.0, max_value=1.0)


def _exact(values: list[float], q: float) -> float:
    """The value of rank ``floor(q (n - 1))``: the element the sketch answers for."""
    ordered = sorted(values)
    return ordered[math.floor(q * (len(ordered) - 1))]


@given(VALUES, QUANTILES)
def test_every_quantile_is_within_the_relative_accuracy_of_the_data(
    values: list[float], q: float
) -> None:
    estimate = QuantileSketch.of(values).quantile(q)
    exact = _exact(values, q)
    assert estimate is not None
    assert abs(estimate - exact) <= RELATIVE_ACCURACY * abs(exact) * (1 + 1e-9)


@given(VALUES, VALUES)
def test_sketches_merge_as_if_one_process_had_seen_everything(
    first: list[float], second: list[float]
) -> None:
    merged = QuantileSketch.of(first)
    merged.merge(QuantileSketch.of(second))
    assert merged == QuantileSketch.of(first + second)
    assert merged.count == len(first) + len(second)


@given(VALUES)
def test_the_wire_form_reads_back_the_same_sketch(values: list[float]) -> None:
    sketch = QuantileSketch.of(values)
    assert QuantileSketch.from_document(sketch.to_document()) == sketch


def test_a_latency_distribution_gives_its_p50_p95_p99_within_one_percent() -> None:
    values = [0.1 * 1.001**i for i in range(12_000)]  # 0.1 ms to about 16 s
    sketch = QuantileSketch.of(values)
    for q in (0.5, 0.95, 0.99):
        assert sketch.quantile(q) == pytest.approx(_exact(values, q), rel=RELATIVE_ACCURACY)


def test_an_empty_sketch_has_no_quantile_and_a_quantile_outside_0_1_is_refused() -> None:
    assert QuantileSketch().quantile(0.5) is None
    with pytest.raises(ValueError, match="q must be from 0 to 1"):
        QuantileSketch.of([1.0]).quantile(1.5)


def test_too_many_bins_fold_the_lowest_and_keep_the_high_quantiles_exact() -> None:
    values = [1e-9 * 1.0203**i for i in range(MAX_BINS + 250)]  # one bin each
    sketch = QuantileSketch.of(values)
    assert len(sketch.positive) == MAX_BINS
    assert sketch.count == len(values)
    assert sketch.quantile(0.99) == pytest.approx(_exact(values, 0.99), rel=RELATIVE_ACCURACY)


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ([], "sketch"),
        ({"accuracy": 0.02}, "sketch.accuracy"),
        ({"bins": []}, "sketch.bins"),
        ({"positive": [[1, 0]]}, "sketch.positive[0][1]"),
        ({"positive": [[1, 2], [1, 3]]}, "sketch.positive[1][0]"),
        ({"negative": [[10**6, 1]]}, "sketch.negative[0][0]"),
        ({"positive": [[1]]}, "sketch.positive[0]"),
        ({"zeros": -1}, "sketch.zeros"),
        ({"zeros": True}, "sketch.zeros"),
    ],
)
def test_a_bad_wire_form_is_refused_naming_the_field(document: object, field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        QuantileSketch.from_document(document)
    assert refused.value.details["field"] == field


def _window(**changes: object) -> MetricWindow:
    fields: dict[str, object] = {
        "flag": "search", "variant": "on", "metric": "latency_ms",
        "start": datetime(2026, 12, 7, 9, tzinfo=UTC), "seconds": 60, "kind": WindowKind.MEAN,
        "n": 3, "sum": 6.0, "sum_squares": 14.0, "sketch": QuantileSketch.of([1.0, 2.0, 3.0]),
    }  # fmt: skip
    return MetricWindow(**(fields | changes))  # type: ignore[arg-type]


def test_a_window_s_sketch_must_hold_its_n_values_and_only_mean_windows_have_one() -> None:
    assert _window().totals.quantile(1.0) == pytest.approx(3.0, rel=RELATIVE_ACCURACY)
    with pytest.raises(ValidationError, match=r"window.sketch holds 3 values but .* n = 4"):
        _window(n=4, sum=7.0, sum_squares=30.0)
    with pytest.raises(ValidationError, match="a proportion window has no quantiles"):
        _window(kind=WindowKind.PROPORTION, sum=None, sum_squares=None, successes=1)


def test_totals_add_their_sketches_without_changing_either() -> None:
    first = WindowTotals(kind=WindowKind.MEAN, n=2, sketch=QuantileSketch.of([1.0, 2.0]))
    second = WindowTotals(kind=WindowKind.MEAN, n=1, sketch=QuantileSketch.of([300.0]))
    both = first + second
    assert both.sketch == QuantileSketch.of([1.0, 2.0, 300.0])
    assert first.sketch == QuantileSketch.of([1.0, 2.0])
    assert (first + WindowTotals(kind=WindowKind.MEAN)).sketch == first.sketch
    assert WindowTotals(kind=WindowKind.MEAN).quantile(0.5) is None
