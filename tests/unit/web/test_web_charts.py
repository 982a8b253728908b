"""Server-side SVG charts: valid markup, readable labels, escaped text, no inline style."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from rheostat.web.charts import (
    Interval,
    Series,
    interval_chart,
    line_chart,
    nice_ticks,
    percent_label,
    progress_bar,
)

SVG = "{http://www.w3.org/2000/svg}"


def _parse(markup: str) -> ET.Element:
    return ET.fromstring(markup)  # noqa: S314  # our own output, parsed to check it is XML


def test_nice_ticks_cover_the_range_in_round_steps() -> None:
    assert nice_ticks(0, 0.047) == [0.0, 0.02, 0.04, 0.06]
    assert nice_ticks(0, 100) == [0, 50, 100]
    assert nice_ticks(0, 0.041)[-1] >= 0.041
    assert nice_ticks(5, 5)[0] <= 5 <= nice_ticks(5, 5)[-1]
    assert nice_ticks(-0.3, 0.3)[0] <= -0.3


def test_a_line_chart_draws_one_line_per_series_with_a_legend() -> None:
    # Given
    treatment = Series(name="treatment", points=((60, 0.02), (120, 0.03)), tone="treatment")
    holdback = Series(name="holdback", points=((60, 0.02), (120, 0.021)), tone="holdback")
    # When
    svg = _parse(line_chart([treatment, holdback], title="errors: treatment vs holdback"))
    # Then
    assert svg.get("role") == "img"
    assert svg.findtext(f"{SVG}title") == "errors: treatment vs holdback"
    assert len(svg.findall(f"{SVG}polyline")) == 2
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert "treatment" in texts
    assert "holdback" in texts
    assert "latest 3%" in (svg.findtext(f"{SVG}desc") or "")
    assert all(element.get("style") is None for element in svg.iter())


def test_a_line_chart_without_data_says_so() -> None:
    svg = _parse(line_chart([Series(name="treatment", points=())], title="t"))
    assert "no metric data yet" in [t.text for t in svg.iter(f"{SVG}text")]


def test_labels_are_escaped() -> None:
    markup = line_chart([Series(name="<b>x</b>", points=((0, 1.0),))], title="a & <b>")
    assert "<b>" not in markup
    _parse(markup)


def test_an_interval_chart_has_a_row_per_interval_coloured_by_verdict() -> None:
    # Given
    rows = [
        Interval(label="b · conversion", estimate=0.05, low=0.01, high=0.09, verdict="better"),
        Interval(label="c · conversion", estimate=-0.01, low=-0.05, high=0.03),
    ]
    # When
    svg = _parse(interval_chart(rows, title="lift"))
    # Then
    circles = svg.findall(f"{SVG}circle")
    assert [c.get("fill") for c in circles] == ["#15803d", "#4b5563"]
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert "b · conversion" in texts
    assert percent_label(0.05) in texts


def test_a_progress_bar_fills_its_share() -> None:
    svg = _parse(progress_bar(25.0, label="copy", width=200))
    fills = svg.findall(f"{SVG}rect")
    assert fills[1].get("width") == "50.0"
    assert svg.get("aria-label") == "copy: 25.0%"
    assert _parse(progress_bar(None, label="copy")).get("aria-label") == "copy: unknown"
