"""Delivery: what evaluating through ``rheostat.Client`` costs, and how fast a change arrives.

1. Evaluation: the bare ``FlagSet`` against a ``Client`` serving the same flags (the client's
   hot path once it has downloaded), interleaved in one run; the ratio is the figure.
2. Propagation: a ``rheostat serve`` on SQLite (write through its API, the client follows the
   same server) and, when a PostgreSQL URL is given (``RHEOSTAT_BENCH_POSTGRES_URL`` or
   ``RHEOSTAT_TEST_POSTGRES_URL``), two replicas on one database (write through replica A,
   the client follows replica B). Time from the moment the write is sent to the client's
   change callback. Next to it, the floor: a bare PostgreSQL ``NOTIFY`` to a ``LISTEN`` on
   another connection, same run.

Run: ``.venv/bin/python benchmarks/delivery.py [--changes N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg

import rheostat
from rheostat.sdk import FlagsChanged

RHEOSTAT = Path(sys.executable).with_name("rheostat")
FLAG = {
    "variants": {"on": True, "off": False},
    "default": "off",
    "rules": [
        {"when": [{"attribute": "plan", "op": "in", "values": ["pro"]}], "serve": "on"},
        {"serve": {"split": {"on": 25, "off": 75}, "by": "key"}},
    ],
}


def main(argv: list[str] | None = None) -> int:
    """Print the evaluation ratio and the propagation figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=60, help="changes timed per setup")
    parser.add_argument("--evaluations", type=int, default=200_000)
    args = parser.parse_args(argv)
    evaluation_overhead(args.evaluations)
    with tempfile.TemporaryDirectory() as folder:
        sqlite_url = f"sqlite:///{Path(folder) / 'rheostat.db'}"
        keys = _prepare(sqlite_url)
        with _serve(sqlite_url) as server:
            _report("SQLite, one server", _propagation(server, server, keys, args.changes))
    postgres = os.environ.get("RHEOSTAT_BENCH_POSTGRES_URL") or os.environ.get(
        "RHEOSTAT_TEST_POSTGRES_URL"
    )
    if postgres:
        with _fresh_postgres(postgres) as database_url:
            keys = _prepare(database_url)
            with _serve(database_url) as replica_a, _serve(database_url) as replica_b:
                figures = _propagation(replica_a, replica_b, keys, args.changes)
            _report("PostgreSQL, write via A, client on B", figures)
            _report(
                "PostgreSQL NOTIFY -> LISTEN (floor)", _notify_floor(database_url, args.changes)
            )
    else:
        print("PostgreSQL: skipped (set RHEOSTAT_BENCH_POSTGRES_URL)")
    return 0


def evaluation_overhead(count: int) -> None:
    """Median ns per evaluation: bare FlagSet vs Client, interleaved rounds, same run."""
    flags = rheostat.FlagSet.from_dict({"version": 1, "flags": {"checkout": FLAG}})
    client = rheostat.Client(flags, environ={})
    contexts = [
        rheostat.Context(key=f"user-{i}", attributes={"plan": "pro" if i % 7 == 0 else "free"})
        for i in range(1000)
    ]
    bare: list[float] = []
    through: list[float] = []
    for _ in range(15):
        bare.append(_time_evaluations(flags.is_enabled, contexts, count))
        through.append(_time_evaluations(client.is_enabled, contexts, count))
    bare_ns, client_ns = statistics.median(bare), statistics.median(through)
    print(f"is_enabled: FlagSet {bare_ns:.0f} ns, Client {client_ns:.0f} ns,", end=" ")
    print(f"ratio {client_ns / bare_ns:.3f} (target <= 1.10)")


def _time_evaluations(
    evaluate: Callable[[str, rheostat.Context], bool], contexts: list[rheostat.Context], count: int
) -> float:
    rounds = max(1, count // len(contexts))
    started = time.perf_counter_ns()
    for _ in range(rounds):
        for context in contexts:
            evaluate("checkout", context)
    return (time.perf_counter_ns() - started) / (rounds * len(contexts))


def _propagation(writer: str, reader: str, keys: dict[str, str], changes: int) -> list[float]:
    admin = {"Authorization": f"Bearer {keys['admin']}"}
    params = {"environment": "production"}
    with httpx.Client(base_url=writer, headers=admin, timeout=30.0) as http:
        http.post("/api/v1/flags", params=params, json={"key": "kill", "definition": FLAG})
        arrived = threading.Event()
        client = rheostat.Client(url=reader, api_key=keys["sdk"], init_timeout=10.0)

        def on_change(change: FlagsChanged) -> None:
            if "kill" in change.keys:
                arrived.set()

        client.add_change_listener(on_change)
        samples: list[float] = []
        writes: list[float] = []
        for index in range(changes):
            arrived.clear()
            action = "disable" if index % 2 == 0 else "enable"
            started = time.perf_counter()
            http.post(f"/api/v1/flags/kill/{action}", params=params, json={"reason": "bench"})
            answered = time.perf_counter()
            if not arrived.wait(30.0):
                raise SystemExit(f"change {index} never arrived")
            samples.append((time.perf_counter() - started) * 1000)
            writes.append((answered - started) * 1000)
        client.close()
    _report("  of which the write's own HTTP round trip", writes)
    return samples


def _notify_floor(database_url: str, changes: int) -> list[float]:
    conninfo = database_url.replace("postgresql+psycopg://", "postgresql://")
    samples = []
    with (
        psycopg.connect(conninfo, autocommit=True) as listener,
        psycopg.connect(conninfo, autocommit=True) as sender,
    ):
        listener.execute("LISTEN bench_floor")
        for _ in range(changes):
            started = time.perf_counter()
            sender.execute("NOTIFY bench_floor, 'x'")
            next(iter(listener.notifies(timeout=30.0, stop_after=1)))
            samples.append((time.perf_counter() - started) * 1000)
    return samples


def _report(setup: str, samples: list[float]) -> None:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(
        f"{setup:<40} n={len(ordered):<4} p50 {statistics.median(ordered):7.2f} ms"
        f"   p99 {p99:7.2f} ms   max {ordered[-1]:7.2f} ms"
    )


def _prepare(database_url: str) -> dict[str, str]:
    def run(*args: str) -> str:
        command = [str(RHEOSTAT), *args, "--database-url", database_url]
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603

    run("migrate-db")
    run("env", "create", "production")
    admin = json.loads(run("keys", "create", "bench", "--scope", "admin", "--json"))
    sdk = json.loads(
        run("keys", "create", "app", "--scope", "sdk", "--env", "production", "--json")
    )
    return {"admin": admin["token"], "sdk": sdk["token"]}


@contextmanager
def _serve(database_url: str, executable: Path = RHEOSTAT) -> Iterator[str]:
    """``executable serve`` (this environment's ``rheostat`` by default) on ``database_url``."""

    def command(port: int) -> list[str]:
        return [str(executable), "serve", "--port", str(port), "--database-url", database_url]

    with _running(command, tries=600) as url:
        yield url


@contextmanager
def _running(command: Callable[[int], list[str]], *, tries: int) -> Iterator[str]:
    """Run ``command(port)`` on a free loopback port and yield its URL once ``/health``
    answers (or after ``tries`` attempts); terminate it when the block ends."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(command(port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(tries):
            try:
                if httpx.get(f"{url}/health", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def _fresh_postgres(server_url: str) -> Iterator[str]:
    name = f"rheostat_bench_{secrets.token_hex(4)}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    base = server_url.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(server_url, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


if __name__ == "__main__":
    sys.exit(main())
