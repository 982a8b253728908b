"""The network, file, process and code probes against real things: an HTTP server, a TCP
port, Redis on 127.0.0.1:6379, files, processes and importable callables."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from rheostat.checks import CheckResult, Registry, Status, parse_suite, run_suite
from rheostat.clock import FixedClock, SystemClock
from rheostat.probes import outside_probes


def _run(
    *checks: dict[str, Any], clock: Any = None, environ: dict[str, str] | None = None
) -> list[CheckResult]:
    suite = parse_suite({"checks": list(checks)}, environ=environ or {})
    registry = Registry(outside_probes(clock or SystemClock()))
    return list(run_suite(suite, registry, monotonic=SystemClock().monotonic))


def _statuses(results: list[CheckResult]) -> list[str]:
    return [result.status.value for result in results]


def test_http_passes_on_the_expected_status_and_fails_otherwise(http_url: str) -> None:
    results = _run(
        {"name": "ok", "kind": "http", "url": "${BASE}/health"},
        {"name": "down", "kind": "http", "url": "${BASE}/broken"},
        {"name": "down-expected", "kind": "http", "url": "${BASE}/broken", "status": [503]},
        {"name": "missing", "kind": "http", "url": "${BASE}/nope"},
        environ={"BASE": http_url},
    )
    assert _statuses(results) == ["pass", "fail", "pass", "fail"]
    assert results[0].evidence["status"] == 200
    assert results[1].message.endswith("answered 503, expected 200")
    assert '"down"' in results[1].evidence["body"]


def test_http_fails_over_its_latency_limit_and_at_its_timeout(http_url: str) -> None:
    # Given a route that answers after 300 ms and one that never answers
    results = _run(
        {"name": "slow", "kind": "http", "url": f"{http_url}/slow", "max_latency_ms": 50},
        {"name": "hung", "kind": "http", "url": f"{http_url}/hang", "timeout": "300ms"},
    )
    slow, hung = results
    assert slow.status is Status.FAIL
    assert "over the 50 ms limit" in slow.message
    assert slow.evidence["latency_ms"] >= 250
    assert hung.status is Status.FAIL


def test_http_to_a_closed_port_fails(closed_port: int) -> None:
    [result] = _run({"kind": "http", "url": f"http://127.0.0.1:{closed_port}/", "timeout": 5})
    assert result.status is Status.FAIL
    assert "did not answer" in result.message


def test_tcp_passes_on_a_listening_port_and_fails_on_a_closed_one(
    tcp_port: int, closed_port: int
) -> None:
    results = _run(
        {"name": "open", "kind": "tcp", "host": "127.0.0.1", "port": tcp_port},
        {"name": "closed", "kind": "tcp", "host": "127.0.0.1", "port": closed_port},
    )
    assert _statuses(results) == ["pass", "fail"]


def test_redis_answers_pong_and_a_non_redis_port_does_not(tcp_port: int, http_url: str) -> None:
    http_port = int(http_url.rsplit(":", 1)[1])
    results = _run(
        {"name": "real", "kind": "redis"},
        {"name": "http", "kind": "redis", "port": http_port, "timeout": 5},
    )
    assert _statuses(results) == ["pass", "fail"]
    assert results[0].message == "Redis at 127.0.0.1:6379 answered PONG"


def test_prometheus_ready_and_every_target_of_a_job_up(http_url: str) -> None:
    results = _run(
        {"name": "ready", "kind": "prometheus_up", "url": http_url},
        {"name": "api", "kind": "prometheus_up", "url": http_url, "job": "api"},
        {"name": "workers", "kind": "prometheus_up", "url": http_url, "job": "workers"},
        {"name": "ghost", "kind": "prometheus_up", "url": http_url, "job": "ghost"},
    )
    assert _statuses(results) == ["pass", "pass", "fail", "fail"]
    assert results[2].evidence["down"] == ["h1:9100"]
    assert "scrapes no target" in results[3].message


def test_command_exit_status_decides_and_severity_warn_softens_it(tmp_path: Path) -> None:
    exit_with = [sys.executable, "-c", "import sys; print('out'); sys.exit(int(sys.argv[1]))"]
    results = _run(
        {"name": "zero", "kind": "command", "run": [*exit_with, "0"]},
        {"name": "three", "kind": "command", "run": [*exit_with, "3"]},
        {"name": "soft", "kind": "command", "run": [*exit_with, "4"], "severity": "warn"},
        {"name": "absent", "kind": "command", "run": "no-such-program-here --x"},
        {
            "name": "env",
            "kind": "command",
            "run": [sys.executable, "-c", "import os, sys; sys.exit(os.environ['RH_X'] != 'y')"],
            "env": {"RH_X": "y"},
        },
    )
    assert _statuses(results) == ["pass", "fail", "warn", "fail", "pass"]
    assert results[1].evidence["exit_code"] == 3
    assert results[1].evidence["stdout"] == "out\n"
    assert "could not start" in results[3].message


def test_a_command_past_its_timeout_is_killed_and_fails() -> None:
    [result] = _run(
        {
            "kind": "command",
            "run": [sys.executable, "-c", "import time; time.sleep(30)"],
            "timeout": "500ms",
        },
    )
    assert result.status is Status.FAIL
    assert result.error == "timeout" or "did not finish" in result.message


def test_backup_recent_reads_the_newest_file_of_a_folder(tmp_path: Path) -> None:
    # Given backups written 30 h and 2 h before the clock's now
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    for name, age in (("old.dump", 30), ("new.dump", 2), ("notes.txt", 1)):
        path = tmp_path / name
        path.write_text(name)
        stamp = (now - timedelta(hours=age)).timestamp()
        os.utime(path, (stamp, stamp))
    clock = FixedClock(now)

    # When the newest *.dump must be under 26 h, and under 1 h
    results = _run(
        {
            "name": "day",
            "kind": "backup_recent",
            "path": str(tmp_path),
            "pattern": "*.dump",
            "max_age_hours": 26,
        },
        {
            "name": "hour",
            "kind": "backup_recent",
            "path": str(tmp_path),
            "pattern": "*.dump",
            "max_age_hours": 1,
        },
        {
            "name": "none",
            "kind": "backup_recent",
            "path": str(tmp_path),
            "pattern": "*.gz",
            "max_age_hours": 1,
        },
        clock=clock,
    )

    # Then the 2 h old dump passes the first, fails the second; no *.gz fails
    assert _statuses(results) == ["pass", "fail", "fail"]
    assert results[0].evidence["file"].endswith("new.dump")
    assert results[0].evidence["age_hours"] == 2.0


def test_backup_recent_reads_a_commands_timestamp() -> None:
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    printed = [
        ("iso", "2026-03-01T10:00:00+00:00", "pass"),
        ("epoch", str((now - timedelta(hours=50)).timestamp()), "fail"),
        ("junk", "yesterday", "fail"),
    ]
    results = _run(
        *(
            {
                "name": name,
                "kind": "backup_recent",
                "max_age_hours": 24,
                "command": [sys.executable, "-c", f"print('{text}')"],
            }
            for name, text, _ in printed
        ),
        clock=FixedClock(now),
    )
    assert _statuses(results) == [expected for _, _, expected in printed]
    assert "not a timestamp" in results[2].message


def test_disk_space_compares_free_space_with_the_minimum(tmp_path: Path) -> None:
    results = _run(
        {"name": "some", "kind": "disk_space", "path": str(tmp_path), "min_free_gb": 0.001},
        {"name": "too-much", "kind": "disk_space", "path": str(tmp_path), "min_free_percent": 100},
        {"name": "absent", "kind": "disk_space", "path": str(tmp_path / "nope"), "min_free_gb": 1},
    )
    assert _statuses(results) == ["pass", "fail", "fail"]
    assert results[2].error == "crash"


def answers_warn(*, level: str) -> dict[str, Any]:
    """A user's check returning seed 000's shape."""
    return {"status": level, "message": f"level {level}", "details": {"level": level}}


def test_python_callables_decide_by_what_they_return(tmp_path: Path) -> None:
    results = _run(
        {"name": "true", "kind": "python", "target": "os.path:isdir", "args": {"s": str(tmp_path)}},
        {"name": "false", "kind": "python", "target": "os.path:isfile", "args": {"path": "/nope"}},
        {
            "name": "warning",
            "kind": "python",
            "target": f"{__name__}:answers_warn",
            "args": {"level": "warning"},
        },
        {"name": "raises", "kind": "python", "target": "json:loads", "args": {"s": "{"}},
        {"name": "no-module", "kind": "python", "target": "no_such_module_here:f"},
    )
    assert _statuses(results) == ["pass", "fail", "warn", "fail", "fail"]
    assert results[2].evidence == {"level": "warning"}
    assert (results[3].error, results[4].error) == ("crash", "crash")
    assert "JSONDecodeError" in results[3].message


@pytest.mark.parametrize("kind", ["http", "tcp"])
def test_every_check_of_a_suite_answers_even_when_one_hangs(
    kind: str, http_url: str, tcp_port: int
) -> None:
    hanging = {"name": "hang", "kind": "http", "url": f"{http_url}/hang", "timeout": "200ms"}
    other = (
        {"name": "other", "kind": "http", "url": f"{http_url}/health"}
        if kind == "http"
        else {"name": "other", "kind": "tcp", "host": "127.0.0.1", "port": tcp_port}
    )
    assert _statuses(_run(hanging, other)) == ["fail", "pass"]
