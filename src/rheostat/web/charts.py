"""Charts as server-side SVG: values in, markup out (pure).

Every chart is an ``<svg role="img">`` with a ``<title>`` and ``<desc>`` for screen readers,
colours given as presentation attributes (the dashboard's Content-Security-Policy allows no
inline style), a ``viewBox`` so it scales to the width of a phone, and text large enough to
read in a screenshot.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

__all__ = [
    "TONES",
    "Interval",
    "Series",
    "interval_chart",
    "line_chart",
    "nice_ticks",
    "percent_label",
    "progress_bar",
]

TONES = {"treatment": "#c2410c", "holdback": "#1d4ed8", "rest": "#6b7280"}
"""Colour of each series' tone: the change, its holdback, everyone else."""
_GRID = "#d1d5db"
_INK = "#111827"
_MUTED = "#4b5563"
_FONT = 'font-family="system-ui, sans-serif"'
_PASS, _FAIL, _NEUTRAL = "#15803d", "#b91c1c", "#4b5563"


@dataclass(frozen=True, slots=True, kw_only=True)
class Series:
    """One line: ``points`` are ``(x, y)``, x in seconds since the chart's start."""

    name: str
    points: tuple[tuple[float, float], ...]
    tone: str = "treatment"


@dataclass(frozen=True, slots=True, kw_only=True)
class Interval:
    """One row of an interval chart: an estimate with its confidence interval.

    Attributes:
        verdict: ``better``, ``worse`` or ``unclear`` (colours the row).
    """

    label: str
    estimate: float
    low: float
    high: float
    verdict: str = "unclear"


def percent_label(value: float) -> str:
    """``0.0123`` -> ``1.23%`` (a share or a relative change, shown as percent)."""
    return f"{value * 100:.3g}%"


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering ``[low, high]`` (steps of 1, 2 or 5 times a power of ten)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return [0.0, 1.0]
    if high <= low:
        high = low + (abs(low) or 1.0)
    raw = (high - low) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    ticks = [round(math.floor(low / step) * step, 12)]
    while ticks[-1] < high - step * 1e-9:  # the last tick is at or above the highest value
        ticks.append(round(ticks[-1] + step, 12))
    return ticks


def line_chart(
    series: Sequence[Series],
    *,
    title: str,
    y_format: Callable[[float], str] = percent_label,
    x_label: str = "minutes since the plan started",
    width: int = 640,
    height: int = 260,
) -> Markup:
    """A line chart of ``series`` over a shared time axis, with a legend and gridlines."""
    points = [point for line in series for point in line.points]
    left, right, top, bottom = 70, 16, 40, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = [_svg_open(width, height, title, _describe_lines(series, y_format))]
    if not points:
        parts.append(_text(width / 2, height / 2, "no metric data yet", anchor="middle"))
        return Markup("".join([*parts, "</svg>"]))  # noqa: S704  # built from escaped parts
    y_ticks = nice_ticks(min(0.0, *(y for _, y in points)), max(y for _, y in points) or 1.0)
    x_ticks = nice_ticks(0.0, max(max(x for x, _ in points), 60.0) / 60.0)
    x_span, y_low, y_span = x_ticks[-1] * 60 or 1.0, y_ticks[0], (y_ticks[-1] - y_ticks[0]) or 1.0

    def to_x(seconds: float) -> float:
        return left + plot_w * seconds / x_span

    def to_y(value: float) -> float:
        return top + plot_h * (1 - (value - y_low) / y_span)

    for tick in y_ticks:
        parts.append(_line(left, to_y(tick), left + plot_w, to_y(tick), _GRID))
        parts.append(_text(left - 8, to_y(tick) + 4, y_format(tick), anchor="end"))
    parts.extend(
        _text(to_x(tick * 60), top + plot_h + 18, f"{tick:g}", anchor="middle") for tick in x_ticks
    )
    parts.append(_text(left + plot_w / 2, height - 6, x_label, anchor="middle", fill=_MUTED))
    parts.append(_line(left, top + plot_h, left + plot_w, top + plot_h, _INK))
    for index, line in enumerate(series):
        parts.append(_polyline(line, to_x, to_y))
        parts.append(_legend(left + 170 * index, 18, line))
    return Markup("".join([*parts, "</svg>"]))  # noqa: S704  # built from escaped parts


def interval_chart(
    rows: Sequence[Interval],
    *,
    title: str,
    value_format: Callable[[float], str] = percent_label,
    width: int = 640,
) -> Markup:
    """A forest plot: each row's estimate and interval against a line at zero."""
    label_w, right, top, row_h = 200, 60, 30, 34
    height = top + row_h * max(len(rows), 1) + 30
    plot_w = width - label_w - right
    parts = [_svg_open(width, height, title, _describe_intervals(rows, value_format))]
    if not rows:
        parts.append(_text(width / 2, height / 2, "no comparisons yet", anchor="middle"))
        return Markup("".join([*parts, "</svg>"]))  # noqa: S704  # built from escaped parts
    reach = max(abs(v) for row in rows for v in (row.low, row.high, row.estimate)) or 0.01
    ticks = nice_ticks(-reach, reach)
    low, span = ticks[0], (ticks[-1] - ticks[0]) or 1.0

    def to_x(value: float) -> float:
        return label_w + plot_w * (value - low) / span

    for tick in ticks:
        colour = _INK if tick == 0 else _GRID
        parts.append(_line(to_x(tick), top - 6, to_x(tick), height - 26, colour))
        parts.append(_text(to_x(tick), height - 8, value_format(tick), anchor="middle"))
    for index, row in enumerate(rows):
        y = top + row_h * index + row_h / 2
        colour = {"better": _PASS, "worse": _FAIL}.get(row.verdict, _NEUTRAL)
        parts.append(_text(label_w - 10, y + 4, row.label, anchor="end"))
        parts.append(_line(to_x(row.low), y, to_x(row.high), y, colour, width=3))
        parts.append(f'<circle cx="{to_x(row.estimate):.1f}" cy="{y:.1f}" r="6" fill="{colour}"/>')
        parts.append(_text(width - right + 6, y + 4, value_format(row.estimate), anchor="start"))
    return Markup("".join([*parts, "</svg>"]))  # noqa: S704  # built from escaped parts


def progress_bar(percent: float | None, *, label: str, width: int = 220) -> Markup:
    """A horizontal bar filled to ``percent`` (an empty, hatched-free bar when unknown)."""
    share = 0.0 if percent is None else max(0.0, min(100.0, percent)) / 100
    shown = "unknown" if percent is None else f"{percent:.1f}%"
    return Markup(  # noqa: S704  # label escaped, numbers formatted
        f'<svg class="bar" viewBox="0 0 {width} 16" width="{width}" height="16" role="img"'
        f' aria-label="{escape(label)}: {shown}" xmlns="http://www.w3.org/2000/svg">'
        f'<rect x="0" y="0" width="{width}" height="16" rx="3" fill="#e5e7eb"/>'
        f'<rect x="0" y="0" width="{width * share:.1f}" height="16" rx="3" fill="{_PASS}"/>'
        "</svg>"
    )


def _svg_open(width: int, height: int, title: str, description: str) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
        f' role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title><desc>{escape(description)}</desc>"
    )


def _describe_lines(series: Sequence[Series], y_format: Callable[[float], str]) -> str:
    described = []
    for line in series:
        last = f"latest {y_format(line.points[-1][1])}" if line.points else "no data"
        described.append(f"{line.name}: {len(line.points)} points, {last}")
    return "; ".join(described) or "no data"


def _describe_intervals(rows: Sequence[Interval], value_format: Callable[[float], str]) -> str:
    return "; ".join(
        f"{row.label}: {value_format(row.estimate)} ({value_format(row.low)} to"
        f" {value_format(row.high)}), {row.verdict}"
        for row in rows
    )


def _text(x: float, y: float, content: str, *, anchor: str = "start", fill: str = _INK) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="13" fill="{fill}"'
        f" {_FONT}>{escape(content)}</text>"
    )


def _line(x1: float, y1: float, x2: float, y2: float, colour: str, *, width: int = 1) -> str:
    return (
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{colour}"'
        f' stroke-width="{width}"/>'
    )


def _polyline(line: Series, to_x: Callable[[float], float], to_y: Callable[[float], float]) -> str:
    colour = TONES.get(line.tone, _INK)
    coordinates = " ".join(f"{to_x(x):.1f},{to_y(y):.1f}" for x, y in line.points)
    dots = "".join(
        f'<circle cx="{to_x(x):.1f}" cy="{to_y(y):.1f}" r="3" fill="{colour}"/>'
        for x, y in line.points
    )
    dash = ' stroke-dasharray="7 4"' if line.tone != "treatment" else ""
    return (
        f'<polyline points="{coordinates}" fill="none" stroke="{colour}" stroke-width="2.5"'
        f"{dash}/>" + dots
    )


def _legend(x: float, y: float, line: Series) -> str:
    colour = TONES.get(line.tone, _INK)
    return (
        f'<rect x="{x + 70:.1f}" y="{y - 10:.1f}" width="14" height="14" fill="{colour}"/>'
        + _text(x + 90, y + 2, line.name)
    )
