"""Alert rules: seed 003's threshold table as a document, validated whole, judged purely."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rheostat.errors import InvalidDefinition
from rheostat.metrics.alert_rules import assess_rule, parse_alert_rules, rule_to_dict

SEED_003 = {
    "rules": [
        {
            "name": "error-rate",
            "flag": "partitioned_tables",
            "metric": "http_errors",
            "warning": {"above": 0.005},
            "critical": {"above": 0.01},
            "min_n": 100,
        },
        {
            "name": "p95-latency",
            "flag": "partitioned_tables",
            "metric": "latency_p95_ms",
            "baseline": "off",
            "window": "15m",
            "warning": {"above": 1.2},
            "critical": {"above": 1.5},
        },
        {
            "name": "cache-hit-rate",
            "flag": "partitioned_tables",
            "metric": "cache_hit",
            "warning": {"below": 0.7},
            "critical": {"below": 0.5},
        },
    ]
}


def test_the_seed_table_parses_and_round_trips() -> None:
    rules = parse_alert_rules(SEED_003)
    assert [rule.name for rule in rules] == ["error-rate", "p95-latency", "cache-hit-rate"]
    assert rules[1].window == timedelta(minutes=15)
    assert rules[0].variant == "on"
    again = parse_alert_rules({"rules": [rule_to_dict(rule) for rule in rules]})
    assert again == rules


@pytest.mark.parametrize(
    ("value", "severity"),
    [(0.004, None), (0.005, None), (0.006, "warning"), (0.01, "warning"), (0.02, "critical")],
)
def test_an_error_rate_is_judged_against_both_thresholds(
    value: float, severity: str | None
) -> None:
    rule = parse_alert_rules(SEED_003)[0]
    judged = assess_rule(rule, value, n=1000)
    assert judged.known
    assert judged.severity == severity


def test_too_little_data_is_not_judged() -> None:
    rule = parse_alert_rules(SEED_003)[0]
    assert not assess_rule(rule, 0.5, n=99).known
    assert not assess_rule(rule, None, n=0).known


def test_a_baseline_rule_judges_the_ratio_and_needs_a_baseline() -> None:
    rule = parse_alert_rules(SEED_003)[1]
    assert assess_rule(rule, 130.0, n=50, baseline=100.0).severity == "warning"
    assert assess_rule(rule, 160.0, n=50, baseline=100.0).severity == "critical"
    assert assess_rule(rule, 110.0, n=50, baseline=100.0).severity is None
    assert not assess_rule(rule, 160.0, n=50, baseline=None).known
    assert not assess_rule(rule, 160.0, n=50, baseline=0.0).known


def test_a_below_rule_fires_when_the_value_drops() -> None:
    rule = parse_alert_rules(SEED_003)[2]
    assert assess_rule(rule, 0.6, n=10).severity == "warning"
    assert assess_rule(rule, 0.4, n=10).severity == "critical"
    assert assess_rule(rule, 0.8, n=10).severity is None


@pytest.mark.parametrize(
    ("document", "path"),
    [
        ([], ""),
        ({"rule": []}, "rule"),
        ({"rules": [{"name": "x", "flag": "f", "metric": "m"}]}, "rules[0]"),
        (
            {"rules": [{"name": "x", "flag": "f", "metric": "m", "warning": {"over": 1}}]},
            "rules[0].warning",
        ),
        (
            {"rules": [{"name": "x", "flag": "f", "metric": "m", "warning": {"above": "1"}}]},
            "rules[0].warning.above",
        ),
        (
            {
                "rules": [
                    {
                        "name": "x",
                        "flag": "f",
                        "metric": "m",
                        "window": "5 minutes",
                        "critical": {"above": 1},
                    }
                ]
            },
            "rules[0].window",
        ),
        ({"rules": [{"flag": "f", "metric": "m", "critical": {"above": 1}}]}, "rules[0].name"),
        (
            {"rules": [{"name": "x", "flag": "f", "metric": "m", "critical": {"above": 1}}] * 2},
            "rules[1].name",
        ),
        (
            {
                "rules": [
                    {"name": "x", "flag": "f", "metric": "m", "min_n": 0, "critical": {"above": 1}}
                ]
            },
            "rules[0].min_n",
        ),
    ],
)
def test_a_bad_document_is_refused_naming_the_path(document: object, path: str) -> None:
    with pytest.raises(InvalidDefinition) as raised:
        parse_alert_rules(document)
    assert raised.value.path == path
