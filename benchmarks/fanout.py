"""Fan-out: many SSE clients on two ``rheostat serve`` replicas sharing PostgreSQL.

The clients (asyncio, ``--processes`` worker processes) follow ``/api/v1/client/stream``,
half on each replica. The coordinator writes ``--changes`` kills/enables through replica A
and every client records when it received each revision (wall clock, shared by all processes
of this machine). Latency = receipt - the moment the write was sent; reported with the
write's own round trip and a bare ``NOTIFY`` -> ``LISTEN`` floor measured in the same run.

Run: ``RHEOSTAT_BENCH_POSTGRES_URL=postgresql://... python benchmarks/fanout.py --clients 1000``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import delivery  # noqa: E402  # needs HERE on the path first


def main(argv: list[str] | None = None) -> int:
    """Coordinate: servers, workers, changes; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return asyncio.run(_worker(*args.worker))
    postgres = os.environ.get("RHEOSTAT_BENCH_POSTGRES_URL") or os.environ.get(
        "RHEOSTAT_TEST_POSTGRES_URL"
    )
    if not postgres:
        print("fan-out: skipped (set RHEOSTAT_BENCH_POSTGRES_URL)")
        return 0
    with delivery._fresh_postgres(postgres) as database_url:  # sibling script
        keys = delivery._prepare(database_url)
        with delivery._serve(database_url) as replica_a, delivery._serve(database_url) as replica_b:
            latencies, writes = _run(replica_a, replica_b, keys, args)
        floor = delivery._notify_floor(database_url, 60)
    print(f"{args.clients} SSE clients on two replicas, {args.changes} changes via replica A:")
    delivery._report("  write sent -> client has the revision", latencies)
    delivery._report("  the write's own HTTP round trip", writes)
    delivery._report("  PostgreSQL NOTIFY -> LISTEN (floor)", floor)
    return 0


def _run(
    writer: str, other: str, keys: dict[str, str], args: argparse.Namespace
) -> tuple[list[float], list[float]]:
    admin = {"Authorization": f"Bearer {keys['admin']}"}
    params = {"environment": "production"}
    http = httpx.Client(base_url=writer, headers=admin, timeout=30.0)
    http.post("/api/v1/flags", params=params, json={"key": "kill", "definition": delivery.FLAG})
    per_process = args.clients // args.processes
    workers = [
        subprocess.Popen(  # noqa: S603  # this script, as a worker
            [sys.executable, __file__, "--worker", url, keys["sdk"], str(per_process), "x"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for url in [writer, other] * (args.processes // 2)
    ]
    for worker in workers:
        assert worker.stdout is not None
        worker.stdout.readline()  # "ready": all its streams got the document
    base = int(
        http.get(
            "/api/v1/client/flags", headers={"Authorization": f"Bearer {keys['sdk']}"}
        ).headers["X-Rheostat-Revision"]
    )
    sent: dict[int, float] = {}
    writes = []
    for index in range(args.changes):
        action = "disable" if index % 2 == 0 else "enable"
        started = time.time()
        http.post(f"/api/v1/flags/kill/{action}", params=params, json={"reason": "bench"})
        writes.append((time.time() - started) * 1000)
        sent[base + index + 1] = started
        time.sleep(0.5)  # let every client receive it before the next change
    latencies: list[float] = []
    for worker in workers:
        output, _ = worker.communicate(input="done\n", timeout=120)
        for revision, received in json.loads(output.splitlines()[-1]):
            if revision in sent:
                latencies.append((received - sent[revision]) * 1000)
    expected = args.changes * per_process * len(workers)
    print(f"received {len(latencies)} of {expected} (client, change) pairs")
    http.close()
    return latencies, writes


async def _worker(url: str, token: str, count: str, _: str) -> int:
    received: list[tuple[int, float]] = []
    ready = [asyncio.Event() for _ in range(int(count))]
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    timeout = httpx.Timeout(30.0, read=None)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=timeout) as http:
        tasks = [asyncio.create_task(_follow(http, token, event, received)) for event in ready]
        for event in ready:
            await event.wait()
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    print(json.dumps(received), flush=True)
    return 0


async def _follow(
    http: httpx.AsyncClient, token: str, ready: asyncio.Event, received: list[tuple[int, float]]
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with http.stream("GET", "/api/v1/client/stream", headers=headers) as response:
        async for line in response.aiter_lines():
            if line.startswith("id: "):
                if ready.is_set():
                    received.append((int(line[4:]), time.time()))
                ready.set()


if __name__ == "__main__":
    statistics.median([0.0])  # imported for delivery._report's use in this process
    sys.exit(main())
