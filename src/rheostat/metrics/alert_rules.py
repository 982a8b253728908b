"""Alert rules: seed 003's threshold table (warning / critical) as a validated document.

```yaml
rules:
  - name: error-rate                 # unique; the alert's kind is rule:<name>
    flag: hybrid_search              # metric windows are kept per flag and variant
    metric: http_errors
    variant: "on"                    # default "on" (the treatment)
    window: 5m                       # windows that started in the last 5 minutes (s, m, h, d)
    min_n: 100                       # fewer observations: not judged (default 1)
    warning: {above: 0.005}          # error rate > 0.5 %
    critical: {above: 0.01}          # error rate > 1 %
  - name: latency
    flag: hybrid_search
    metric: latency_ms
    baseline: "off"                  # judge value / baseline value (the rest, at the same time)
    warning: {above: 1.2}            # p95 +20 %
    critical: {above: 1.5}           # p95 +50 %
  - name: cache-hit-rate
    flag: hybrid_search
    metric: cache_hit
    warning: {below: 0.7}
    critical: {below: 0.5}
```

A value is the window totals' mean (``sum / n``: a rate for proportion windows). Everything
here is pure: ``parse_alert_rules`` validates a whole document (errors name the path) and
``assess_rule`` turns a value into a severity.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from rheostat.errors import InvalidDefinition
from rheostat.inputs import validate_key

__all__ = [
    "AlertCondition",
    "AlertRule",
    "RuleAssessment",
    "assess_rule",
    "parse_alert_rules",
    "rule_to_dict",
]

_DURATION = re.compile(r"(\d{1,6})([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_MAX_WINDOW = timedelta(days=31)
_MAX_RULES = 200
_RULE_KEYS = frozenset(
    {"name", "flag", "metric", "variant", "window", "min_n", "baseline", "warning", "critical"}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertCondition:
    """``above`` and/or ``below``: the condition holds when the value crosses either."""

    above: float | None = None
    below: float | None = None

    def holds(self, value: float) -> bool:
        """Whether ``value`` crosses the threshold."""
        return (self.above is not None and value > self.above) or (
            self.below is not None and value < self.below
        )

    def to_dict(self) -> dict[str, float]:
        """The condition as written."""
        written = {"above": self.above, "below": self.below}
        return {key: value for key, value in written.items() if value is not None}


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertRule:
    """One row of the threshold table."""

    name: str
    flag: str
    metric: str
    variant: str = "on"
    window: timedelta = timedelta(minutes=5)
    min_n: int = 1
    baseline: str | None = None
    warning: AlertCondition | None = None
    critical: AlertCondition | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleAssessment:
    """What a rule says now: ``severity`` (``warning``, ``critical`` or ``None`` when within
    bounds); ``known`` is ``False`` when there was too little data to judge."""

    severity: str | None
    value: float | None
    known: bool


def parse_alert_rules(document: Any) -> tuple[AlertRule, ...]:
    """Validate a whole rule document (``{"rules": [...]}``).

    Raises:
        InvalidDefinition: naming the path of the first bad field (``rules[1].warning``).
    """
    if not isinstance(document, Mapping):
        raise InvalidDefinition("", "an alert rule document is a mapping with `rules`")
    unknown = sorted(set(document) - {"rules", "version"})
    if unknown:
        raise InvalidDefinition(unknown[0], "unknown key (expected `rules`)")
    raw = document.get("rules", [])
    if not isinstance(raw, Sequence) or isinstance(raw, str) or len(raw) > _MAX_RULES:
        raise InvalidDefinition("rules", f"a list of at most {_MAX_RULES} rules")
    rules = tuple(_rule(item, f"rules[{index}]") for index, item in enumerate(raw))
    names = [rule.name for rule in rules]
    for index, name in enumerate(names):
        if name in names[:index]:
            raise InvalidDefinition(f"rules[{index}].name", f"{name!r} is used twice")
    return rules


def assess_rule(
    rule: AlertRule, value: float | None, *, n: int, baseline: float | None = None
) -> RuleAssessment:
    """Judge ``value`` (the mean over ``n`` observations) against the rule.

    With a ``baseline`` rule the judged value is ``value / baseline``; a missing or zero
    baseline, or fewer than ``min_n`` observations, is not judged (``known=False``).
    """
    if value is None or n < rule.min_n:
        return RuleAssessment(severity=None, value=value, known=False)
    judged = value
    if rule.baseline is not None:
        if baseline is None or baseline == 0:
            return RuleAssessment(severity=None, value=None, known=False)
        judged = value / baseline
    for severity, condition in (("critical", rule.critical), ("warning", rule.warning)):
        if condition is not None and condition.holds(judged):
            return RuleAssessment(severity=severity, value=judged, known=True)
    return RuleAssessment(severity=None, value=judged, known=True)


def _rule(raw: Any, path: str) -> AlertRule:
    if not isinstance(raw, Mapping):
        raise InvalidDefinition(path, "a rule is a mapping")
    unknown = sorted(set(raw) - _RULE_KEYS)
    if unknown:
        raise InvalidDefinition(f"{path}.{unknown[0]}", "unknown key")
    warning = _condition(raw.get("warning"), f"{path}.warning")
    critical = _condition(raw.get("critical"), f"{path}.critical")
    if warning is None and critical is None:
        raise InvalidDefinition(path, "a rule needs a `warning` or a `critical` threshold")
    baseline = raw.get("baseline")
    return AlertRule(
        name=_key(raw.get("name"), f"{path}.name"),
        flag=_key(raw.get("flag"), f"{path}.flag"),
        metric=_key(raw.get("metric"), f"{path}.metric"),
        variant=_key(raw.get("variant", "on"), f"{path}.variant"),
        window=_window(raw.get("window", "5m"), f"{path}.window"),
        min_n=_count(raw.get("min_n", 1), f"{path}.min_n"),
        baseline=None if baseline is None else _key(baseline, f"{path}.baseline"),
        warning=warning,
        critical=critical,
    )


def _key(value: Any, path: str) -> str:
    if value is None:
        raise InvalidDefinition(path, "missing")
    try:
        return validate_key(value, path.rsplit(".", 1)[-1])
    except ValueError as error:
        raise InvalidDefinition(path, str(error)) from error


def _window(value: Any, path: str) -> timedelta:
    match = _DURATION.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidDefinition(path, f"a duration such as 30s, 5m, 1h or 1d, got {value!r}")
    window = timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])
    if not timedelta(0) < window <= _MAX_WINDOW:
        raise InvalidDefinition(path, f"between 1s and {_MAX_WINDOW.days}d")
    return window


def _count(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10**12:
        raise InvalidDefinition(path, f"a whole number of at least 1, got {value!r}")
    return value


def _condition(raw: Any, path: str) -> AlertCondition | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or not raw or set(raw) - {"above", "below"}:
        raise InvalidDefinition(path, "a mapping with `above` and/or `below`")
    values = {}
    for name in ("above", "below"):
        value = raw.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            raise InvalidDefinition(f"{path}.{name}", f"a number, got {value!r}")
        if abs(value) > 1e15:
            raise InvalidDefinition(f"{path}.{name}", "out of range")
        values[name] = float(value)
    return AlertCondition(**values)


def rule_to_dict(rule: AlertRule) -> dict[str, Any]:
    """The rule as a document entry (what is stored and shown)."""
    written: dict[str, Any] = {
        "name": rule.name,
        "flag": rule.flag,
        "metric": rule.metric,
        "variant": rule.variant,
        "window": f"{int(rule.window.total_seconds())}s",
        "min_n": rule.min_n,
    }
    if rule.baseline is not None:
        written["baseline"] = rule.baseline
    if rule.warning is not None:
        written["warning"] = rule.warning.to_dict()
    if rule.critical is not None:
        written["critical"] = rule.critical.to_dict()
    return written
