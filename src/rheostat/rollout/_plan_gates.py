"""The ``gates`` of a release plan document.

A gate's kind follows from its keys: ``http`` (probe), ``callable`` (Python function),
``checks`` (check suite), ``compare: holdback`` (treatment against holdback), else ``metric``
(threshold). A name defaults to the metric, or to ``<kind>-<index>``; names are unique.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from rheostat.errors import InvalidDefinition
from rheostat.rollout._plan_fields import (
    check_fields,
    format_duration,
    parse_bool,
    parse_choice,
    parse_count,
    parse_duration,
    parse_key,
    parse_keys,
    parse_number,
    parse_text,
    require_list,
    require_mapping,
)
from rheostat.rollout.model import (
    CallableGate,
    CheckGate,
    Gate,
    GateMode,
    HoldbackGate,
    HttpGate,
    ThresholdGate,
)

__all__ = ["dump_gate", "parse_gates"]

_RATIO = re.compile(r"([0-9]{1,6}(?:\.[0-9]{1,6})?)x_baseline")
_IMPORT_PATH = re.compile(
    r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*:"
    r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"
)
_SOURCES = ("builtin", "prometheus")
_DIRECTIONS = ("higher", "lower")


def parse_gates(raw: Any, path: str) -> tuple[Gate, ...]:
    """Validate the gate list; names must be unique."""
    items = require_list(raw, path)
    gates = tuple(_parse_gate(item, index, f"{path}[{index}]") for index, item in enumerate(items))
    first: dict[str, int] = {}
    for index, gate in enumerate(gates):
        if gate.name in first:
            raise InvalidDefinition(
                f"{path}[{index}].name",
                f"gate name {gate.name!r} is already used by {path}[{first[gate.name]}]"
                " (a metric gate is named after its metric unless it has a name)",
            )
        first[gate.name] = index
    return gates


def _parse_gate(item: Any, index: int, path: str) -> Gate:
    body = require_mapping(item, path)
    for key, parser in _PARSERS.items():
        if key in body:
            return parser(body, index, path)
    raise InvalidDefinition(path, f"a gate needs one of the keys {', '.join(_PARSERS)}")


def _name(body: Mapping[str, Any], path: str, default: str) -> str:
    return parse_key(body.get("name", default), f"{path}.name", "gate")


def _mode(body: Mapping[str, Any], path: str, default: GateMode) -> GateMode:
    return parse_choice(body.get("mode", default.value), f"{path}.mode", GateMode)


def _parse_threshold(body: Mapping[str, Any], index: int, path: str) -> Gate:
    check_fields(
        body,
        {"name", "metric", "mode", "max", "min", "max_ratio", "quantile", "source", "query"}
        | {"hard"},
        path,
    )
    maximum, max_ratio = _parse_max(body, path)
    minimum = None if "min" not in body else parse_number(body["min"], f"{path}.min")
    if maximum is None and minimum is None and max_ratio is None:
        raise InvalidDefinition(path, "a metric gate needs a limit: max, min or max_ratio")
    if maximum is not None and minimum is not None and minimum > maximum:
        raise InvalidDefinition(f"{path}.min", f"{minimum:g} is above max {maximum:g}")
    source = body.get("source", "builtin")
    if source not in _SOURCES:
        raise InvalidDefinition(f"{path}.source", f"must be one of {_SOURCES}, got {source!r}")
    query = (
        None if "query" not in body else parse_text(body["query"], f"{path}.query", multiline=True)
    )
    if (source == "prometheus") != (query is not None):
        raise InvalidDefinition(f"{path}.query", "a prometheus source, and only it, needs a query")
    if source == "prometheus" and max_ratio is not None:
        raise InvalidDefinition(
            f"{path}.max",
            "a prometheus source has no built-in baseline: write it into the query "
            "(e.g. `rate(x[5m]) / rate(x[5m] offset 1d)` with `max: 2`)",
        )
    quantile = _parse_quantile(body, path)
    if source == "prometheus" and quantile is not None:
        raise InvalidDefinition(
            f"{path}.quantile",
            "a prometheus source computes its own quantiles: write it into the query "
            "(e.g. `histogram_quantile(0.95, rate(x_bucket[5m]))`)",
        )
    metric = parse_key(body["metric"], f"{path}.metric", "metric")
    return ThresholdGate(
        name=_name(body, path, metric),
        metric=metric,
        mode=_mode(body, path, GateMode.ROLLBACK),
        max=maximum,
        min=minimum,
        max_ratio=max_ratio,
        source=source,
        query=query,
        hard=parse_bool(body.get("hard", False), f"{path}.hard"),
        quantile=quantile,
    )


def _parse_quantile(body: Mapping[str, Any], path: str) -> float | None:
    """``quantile: 0.95`` judges the p95 of the values (from their sketches), not the mean."""
    if "quantile" not in body:
        return None
    quantile = parse_number(body["quantile"], f"{path}.quantile")
    if not 0 < quantile < 1:
        raise InvalidDefinition(
            f"{path}.quantile", f"must be between 0 and 1 (0.95 is the p95), got {quantile:g}"
        )
    return quantile


def _parse_max(body: Mapping[str, Any], path: str) -> tuple[float | None, float | None]:
    """``max: 0.01`` is absolute; ``max: 2x_baseline`` is ``max_ratio: 2``."""
    raw_max = body.get("max")
    if isinstance(raw_max, str):
        found = _RATIO.fullmatch(raw_max)
        if found is None or float(found.group(1)) <= 0:
            raise InvalidDefinition(
                f"{path}.max", f"must be a number or a ratio such as '2x_baseline', got {raw_max!r}"
            )
        if "max_ratio" in body:
            raise InvalidDefinition(f"{path}.max_ratio", "given twice: also as max")
        return None, float(found.group(1))
    maximum = None if "max" not in body else parse_number(raw_max, f"{path}.max")
    if "max_ratio" not in body:
        return maximum, None
    ratio = parse_number(body["max_ratio"], f"{path}.max_ratio")
    if ratio <= 0:
        raise InvalidDefinition(f"{path}.max_ratio", f"must be above 0, got {ratio:g}")
    return maximum, ratio


def _parse_holdback(body: Mapping[str, Any], index: int, path: str) -> Gate:
    check_fields(
        body,
        {
            "name",
            "metric",
            "compare",
            "mode",
            "worse",
            "tolerance",
            "relative",
            "alpha",
            "min_n",
            "hard",
        },
        path,
    )
    if body["compare"] != "holdback":
        raise InvalidDefinition(f"{path}.compare", f"must be 'holdback', got {body['compare']!r}")
    worse = body.get("worse", "higher")
    if worse not in _DIRECTIONS:
        raise InvalidDefinition(f"{path}.worse", f"must be higher or lower, got {worse!r}")
    tolerance = parse_number(body.get("tolerance", 0.0), f"{path}.tolerance")
    if tolerance < 0:
        raise InvalidDefinition(f"{path}.tolerance", f"must not be negative, got {tolerance:g}")
    alpha = parse_number(body.get("alpha", 0.05), f"{path}.alpha")
    if not 0 < alpha < 1:
        raise InvalidDefinition(f"{path}.alpha", f"must be between 0 and 1, got {alpha:g}")
    metric = parse_key(body.get("metric"), f"{path}.metric", "metric")
    return HoldbackGate(
        name=_name(body, path, metric),
        metric=metric,
        mode=_mode(body, path, GateMode.ROLLBACK),
        worse=worse,
        tolerance=tolerance,
        relative=parse_bool(body.get("relative", False), f"{path}.relative"),
        alpha=alpha,
        min_n=parse_count(body.get("min_n", 100), f"{path}.min_n", minimum=1),
        hard=parse_bool(body.get("hard", False), f"{path}.hard"),
    )


def _parse_checks(body: Mapping[str, Any], index: int, path: str) -> Gate:
    check_fields(body, {"name", "checks", "mode", "every"}, path)
    return CheckGate(
        name=_name(body, path, f"checks-{index}"),
        checks=parse_keys(body["checks"], f"{path}.checks", "check"),
        mode=_mode(body, path, GateMode.PAUSE),
        every=parse_duration(body.get("every", 60), f"{path}.every"),
    )


def _parse_callable(body: Mapping[str, Any], index: int, path: str) -> Gate:
    check_fields(body, {"name", "callable", "mode", "timeout"}, path)
    target = body["callable"]
    if not isinstance(target, str) or not _IMPORT_PATH.fullmatch(target):
        raise InvalidDefinition(
            f"{path}.callable",
            f"must be an import path such as 'package.module:function', got {target!r}",
        )
    return CallableGate(
        name=_name(body, path, f"callable-{index}"),
        target=target,
        mode=_mode(body, path, GateMode.ROLLBACK),
        timeout=parse_duration(body.get("timeout", 10), f"{path}.timeout", allow_zero=False),
    )


def _parse_http(body: Mapping[str, Any], index: int, path: str) -> Gate:
    check_fields(body, {"name", "http", "mode", "expect_status", "timeout"}, path)
    url = parse_text(body["http"], f"{path}.http")
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc or any(c.isspace() for c in url):
        raise InvalidDefinition(f"{path}.http", f"must be an http(s) URL, got {url!r}")
    status = parse_count(body.get("expect_status", 200), f"{path}.expect_status", minimum=100)
    if status > 599:  # the last HTTP status code
        raise InvalidDefinition(f"{path}.expect_status", f"must be 100 to 599, got {status}")
    return HttpGate(
        name=_name(body, path, f"http-{index}"),
        url=url,
        mode=_mode(body, path, GateMode.PAUSE),
        expect_status=status,
        timeout=parse_duration(body.get("timeout", 5), f"{path}.timeout", allow_zero=False),
    )


# The first key found decides the kind (a holdback gate has a metric too).
_PARSERS: Mapping[str, Callable[[Mapping[str, Any], int, str], Gate]] = {
    "http": _parse_http,
    "callable": _parse_callable,
    "checks": _parse_checks,
    "compare": _parse_holdback,
    "metric": _parse_threshold,
}


def dump_gate(gate: Gate) -> dict[str, Any]:
    """The canonical form of one gate, every field written out (absent limits left out)."""
    match gate:
        case ThresholdGate():
            body: dict[str, Any] = {
                "name": gate.name,
                "metric": gate.metric,
                "mode": gate.mode.value,
            }
            limits = {
                "quantile": gate.quantile,
                "max": gate.max,
                "min": gate.min,
                "max_ratio": gate.max_ratio,
            }
            body |= {key: value for key, value in limits.items() if value is not None}
            body |= {"source": gate.source, "hard": gate.hard}
            return body | ({} if gate.query is None else {"query": gate.query})
        case HoldbackGate():
            return {
                "name": gate.name,
                "metric": gate.metric,
                "compare": "holdback",
                "mode": gate.mode.value,
                "worse": gate.worse,
                "tolerance": gate.tolerance,
                "relative": gate.relative,
                "alpha": gate.alpha,
                "min_n": gate.min_n,
                "hard": gate.hard,
            }
        case CheckGate():
            return {
                "name": gate.name,
                "checks": list(gate.checks),
                "mode": gate.mode.value,
                "every": format_duration(gate.every),
            }
        case CallableGate():
            return {
                "name": gate.name,
                "callable": gate.target,
                "mode": gate.mode.value,
                "timeout": format_duration(gate.timeout),
            }
        case HttpGate():
            return {
                "name": gate.name,
                "http": gate.url,
                "mode": gate.mode.value,
                "expect_status": gate.expect_status,
                "timeout": format_duration(gate.timeout),
            }
    raise TypeError(f"not a gate: {gate!r}")  # pragma: no cover  # the match is exhaustive
