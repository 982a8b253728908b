"""Reading suite documents: every built-in kind, defaults, ``${VAR}``, and mistakes by path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rheostat.checks import BUILTIN_KINDS, Severity, parse_suite, read_suite
from rheostat.errors import InvalidDefinition

EXAMPLES: dict[str, dict[str, Any]] = {
    "database_reachable": {},
    "schema": {"tables": ["documents"], "columns": {"documents": ["id"]}, "alembic": "head"},
    "index_used": {"query": "SELECT * FROM t WHERE a = 1", "index": "ix_t_a"},
    "sql": {"query": "SELECT count(*) FROM t", "expect": ">= 1"},
    "http": {"url": "http://127.0.0.1:8000/health", "max_latency_ms": 500},
    "tcp": {"host": "127.0.0.1", "port": 5432},
    "redis": {},
    "backup_recent": {"path": "/var/backups", "max_age_hours": 26},
    "disk_space": {"min_free_gb": 5},
    "metric_baseline": {"environment": "production", "flag": "f", "metric": "latency_ms"},
    "flags_defined": {"environment": "production", "flags": ["a", "b"]},
    "prometheus_up": {"url": "http://127.0.0.1:9090", "job": "api"},
    "command": {"run": "pg_isready -h 127.0.0.1", "severity": "warn"},
    "python": {"target": "myapp.checks:ready", "args": {"strict": True}},
    "plan_rollback": {"environment": "production", "plan": "p", "tables": ["old"]},
    "plan_gate_data": {"environment": "production", "plan": "p"},
}


def test_every_builtin_kind_has_an_example_here() -> None:
    assert set(EXAMPLES) == set(BUILTIN_KINDS)


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
def test_each_kind_reads_its_example_and_writes_it_back(kind: str) -> None:
    # Given a one-check suite of that kind
    document = {"checks": [{"kind": kind, **EXAMPLES[kind]}]}

    # When it is read, written and read again
    suite = parse_suite(document, environ={})
    again = parse_suite(suite.to_document(), environ={})

    # Then the check is named after its kind and the round trip changes nothing
    assert suite.checks[0].name == kind
    assert again == suite


def test_defaults_fill_in_and_the_suite_timeout_applies_to_each_check() -> None:
    suite = read_suite(
        "suite: pre-rollout\ntimeout: 5s\ncheck"
        "s:\n  - {kind: redis}\n  - {kind: http, url: 'http://x', timeout: 500ms}\n",
        environ={},
    )
    redis, http = suite.checks
    assert suite.name == "pre-rollout"
    assert redis.params == {"host": "127.0.0.1", "port": 6379}
    assert redis.timeout_seconds == 5.0
    assert http.params["status"] == [200]
    assert http.params["method"] == "GET"
    assert http.timeout_seconds == 0.5
    assert redis.severity is Severity.FAIL


def test_environment_variables_expand_with_defaults_and_escapes() -> None:
    suite = parse_suite(
        {
            "checks": [
                {"kind": "http", "url": "${API_URL}/health", "headers": {"X": "$${literal}"}},
                {"kind": "tcp", "host": "${DB_HOST:-127.0.0.1}", "port": 5432},
            ]
        },
        environ={"API_URL": "http://api:8000"},
    )
    assert suite.checks[0].params["url"] == "http://api:8000/health"
    assert suite.checks[0].params["headers"] == {"X": "${literal}"}
    assert suite.checks[1].params["host"] == "127.0.0.1"


def test_the_suite_database_is_the_default_url_of_database_checks_only() -> None:
    suite = parse_suite(
        {
            "database": "sqlite:///app.db",
            "checks": [
                {"kind": "sql", "query": "SELECT 1"},
                {"kind": "sql", "name": "other", "query": "SELECT 1", "url": "sqlite:///b.db"},
                {"kind": "redis"},
            ],
        },
        environ={},
    )
    assert [check.params.get("url") for check in suite.checks] == [
        "sqlite:///app.db",
        "sqlite:///b.db",
        None,
    ]


@pytest.mark.parametrize(
    ("document", "path", "words"),
    [
        ({"checks": []}, "checks", "non-empty list"),
        ({"checks": [{"kind": "http"}]}, "checks[0].url", "missing"),
        ({"checks": [{"kind": "nope"}]}, "checks[0].kind", "unknown kind 'nope'"),
        ({"checks": [{"url": "x"}]}, "checks[0].kind", "missing"),
        ({"checks": [{"kind": "redis", "prot": 1}]}, "checks[0].prot", "unknown field"),
        ({"checks": [{"kind": "tcp", "host": "h", "port": 70000}]}, "checks[0].port", "port"),
        ({"checks": [{"kind": "redis"}, {"kind": "redis"}]}, "checks[1].name", "already"),
        ({"checks": [{"kind": "redis", "timeout": "soon"}]}, "checks[0].timeout", "duration"),
        ({"checks": [{"kind": "redis", "timeout": 0}]}, "checks[0].timeout", "longer than 0s"),
        ({"checks": [{"kind": "redis", "severity": "low"}]}, "checks[0].severity", "'warn'"),
        (
            {
                "checks": [
                    {"kind": "redis"},
                    {"kind": "redis", "name": "r2"},
                    {"kind": "http", "url": 3},
                ]
            },
            "checks[2].url",
            "non-empty string",
        ),
        (
            {"checks": [{"kind": "sql", "query": "q", "expect": ">= x"}]},
            "checks[0].expect",
            "condition",
        ),
        (
            {"checks": [{"kind": "http", "url": "u", "status": 99}]},
            "checks[0].status",
            "HTTP status",
        ),
        (
            {"checks": [{"kind": "backup_recent", "max_age_hours": 1}]},
            "checks[0].path",
            "exactly one",
        ),
        ({"checks": [{"kind": "disk_space"}]}, "checks[0].min_free_gb", "at least one"),
        ({"checks": [{"kind": "schema"}]}, "checks[0].tables", "at least one"),
        (
            {"checks": [{"kind": "python", "target": "os.system"}]},
            "checks[0].target",
            "module:function",
        ),
        ({"checks": [{"kind": "redis", "name": "a b"}]}, "checks[0].name", "letters"),
        (
            {"checks": [{"kind": "http", "url": "${MISSING}"}]},
            "checks[0].url",
            "MISSING is not set",
        ),
        ({"checks": [{"kind": "http", "url": "http://x\u0000"}]}, "checks[0].url", "control"),
        ({"checks": [{"kind": "redis"}], "extra": 1}, "extra", "unknown field"),
    ],
)
def test_a_mistake_is_refused_naming_its_path(document: Any, path: str, words: str) -> None:
    with pytest.raises(InvalidDefinition) as raised:
        parse_suite(document, environ={})
    assert raised.value.path == path
    assert words in raised.value.reason


def test_without_an_environment_a_reference_is_refused() -> None:
    # Given a suite sent over HTTP (no environment to read)
    document = {"checks": [{"kind": "flags_defined", "environment": "${HOME}", "flags": ["a"]}]}

    # When it is read without an environment, Then the reference is refused by path
    with pytest.raises(InvalidDefinition) as raised:
        parse_suite(document, environ=None)
    assert raised.value.path == "checks[0].environment"
    assert "not expanded" in raised.value.reason


@pytest.mark.parametrize("text", ["checks: [", "- just\n- a list", "", "checks: {a: 1}"])
def test_text_that_is_not_a_suite_is_refused(text: str) -> None:
    with pytest.raises(InvalidDefinition):
        read_suite(text, environ={})


def test_yaml_errors_name_the_line() -> None:
    with pytest.raises(InvalidDefinition, match="at line 3, column 1"):
        read_suite("checks:\n  - {kind: redis\n", environ={})


def test_numbers_and_ports_from_the_environment_are_read_as_numbers() -> None:
    suite = parse_suite(
        {
            "checks": [
                {"kind": "redis", "port": "${PORT}"},
                {"kind": "disk_space", "min_free_gb": "${GB}"},
            ]
        },
        environ={"PORT": "6380", "GB": "2.5"},
    )
    assert suite.checks[0].params["port"] == 6380
    assert suite.checks[1].params["min_free_gb"] == 2.5


def test_the_documented_example_suite_is_valid() -> None:
    # Given the example suite of docs/checks.md
    path = Path(__file__).resolve().parents[3] / "docs" / "examples" / "pre-rollout.yaml"

    # When it is read with the one variable it needs without a default
    suite = read_suite(
        path.read_text(encoding="utf-8"), environ={"APP_DATABASE_URL": "sqlite:///a.db"}
    )

    # Then every check is there, and the database kinds took the suite's database
    assert len(suite.checks) == 14
    assert {check.kind for check in suite.checks} >= set(BUILTIN_KINDS) - {
        "plan_rollback",
        "plan_gate_data",
    }
    assert suite.checks[0].params["url"] == "sqlite:///a.db"
