"""Which checks a suite sent over HTTP may run."""

from __future__ import annotations

import pytest

from rheostat.checks import parse_suite, refuse_outside
from rheostat.errors import PermissionDenied

STORE_ONLY = {
    "checks": [
        {"kind": "database_reachable"},
        {"kind": "schema", "tables": ["flags"]},
        {"kind": "flags_defined", "environment": "production", "flags": ["a"]},
        {"kind": "metric_baseline", "environment": "production", "flag": "a", "metric": "m"},
        {"kind": "plan_rollback", "environment": "production", "plan": "p"},
        {"kind": "plan_gate_data", "environment": "production", "plan": "p"},
    ]
}


def test_checks_of_rheostats_own_database_are_allowed() -> None:
    refuse_outside(parse_suite(STORE_ONLY, environ=None), frozenset())


@pytest.mark.parametrize(
    "check",
    [
        {"kind": "command", "run": "rm -rf /"},
        {"kind": "python", "target": "os:getcwd"},
        {"kind": "http", "url": "http://169.254.169.254/"},
        {"kind": "tcp", "host": "10.0.0.1", "port": 22},
        {"kind": "redis"},
        {"kind": "sql", "query": "SELECT 1"},
        {"kind": "index_used", "query": "SELECT 1", "index": "i"},
        {"kind": "backup_recent", "path": "/etc", "max_age_hours": 1},
        {"kind": "disk_space", "min_free_gb": 1},
        {"kind": "prometheus_up", "url": "http://x"},
        {"kind": "database_reachable", "url": "postgresql://evil/db"},
        {"kind": "plan_rollback", "environment": "e", "plan": "p", "url": "sqlite:///x"},
        {"kind": "schema", "alembic": "head", "alembic_scripts": "/etc"},
    ],
)
def test_a_check_reaching_outside_is_refused_by_path_unless_allowed(
    check: dict[str, object],
) -> None:
    # Given a suite whose second check reaches outside rheostat
    suite = parse_suite(
        {"checks": [{"kind": "database_reachable", "name": "db"}, check]}, environ=None
    )

    # When the API's policy looks at it, Then it is refused, naming the check
    with pytest.raises(PermissionDenied) as refused:
        refuse_outside(suite, frozenset())
    assert refused.value.details == {"path": "checks[1]", "kind": check["kind"]}
    assert refused.value.message.startswith("checks[1]: ")

    # and a server that allows that kind runs it
    refuse_outside(suite, frozenset({str(check["kind"])}))
