"""Fan-out: many SSE clients on two ``rheostat serve`` replicas sharing PostgreSQL.

For each client count (``--clients 200 1000``) two setups run one after the other, same
topology, same clients:

* **rheostat**: two ``rheostat serve`` replicas on one fresh PostgreSQL database, half the
  clients following ``/api/v1/client/stream`` on each. The coordinator kills/enables a flag
  ``--changes`` times through replica A's admin API.
* **reference**: the peer, a minimal Starlette SSE server (one ``asyncio.Queue`` per client,
  the event encoded once, ``StreamingResponse``), two processes under the same uvicorn, half
  the clients on each. The coordinator publishes to both at once.

The clients are raw ``asyncio.Protocol`` connections in ``--processes`` worker processes (a
callback per received chunk, no HTTP library, so the client is not what is measured). Each
records ``time.time_ns()`` (one clock for every process of this machine) when the event that
carries a revision has fully arrived. Latency = receipt - the moment the write (publish)
returned, i.e. just after its commit; negative when a client got it before the writer got its
answer. Every (client, change) pair must arrive: the missing ones are counted.

Next to them, same run: PostgreSQL ``NOTIFY`` -> ``LISTEN`` on another connection (the floor
of cross-replica delivery) and a client polling every 15 s (the model: a change waits half a
period on average, plus the measured poll round trip).

Run: ``RHEOSTAT_BENCH_POSTGRES_URL=postgresql://... python benchmarks/fanout.py``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import delivery  # noqa: E402  # needs HERE on the path first

POLL_PERIOD_S = 15.0
_ID = re.compile(rb"(?m)^id: (\d+)")


@dataclass
class Figures:
    """One setup's latencies (ms) and how many (client, change) pairs never arrived."""

    latencies: list[float] = field(default_factory=list)
    expected: int = 0
    by_server: dict[str, list[float]] = field(default_factory=dict)

    @property
    def missing(self) -> int:
        """Pairs that did not arrive."""
        return self.expected - len(self.latencies)


def main(argv: list[str] | None = None) -> int:
    """Coordinate: servers, workers, changes; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--processes", type=int, default=4, help="client worker processes")
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--gap-s", type=float, default=0.5, help="pause between changes")
    parser.add_argument("--only", choices=["rheostat", "reference"], help="run one setup")
    parser.add_argument(
        "--before",
        help="another rheostat executable (e.g. main's venv) run as a third setup, same run",
    )
    parser.add_argument(
        "--h11",
        action="store_true",
        help="also run the reference on uvicorn's asyncio loop + h11 (no uvloop, no httptools)",
    )
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--reference-server", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return _worker(*args.worker)
    if args.reference_server:
        return _reference_server(int(args.reference_server[0]), args.reference_server[1])
    postgres = os.environ.get("RHEOSTAT_BENCH_POSTGRES_URL") or os.environ.get(
        "RHEOSTAT_TEST_POSTGRES_URL"
    )
    if not postgres:
        print("fan-out: skipped (set RHEOSTAT_BENCH_POSTGRES_URL)")
        return 0
    print(f"load average at start: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} cores")
    with delivery._fresh_postgres(postgres) as database_url:  # sibling script
        results, poll_ms = _measure(database_url, args)
        floor = delivery._notify_floor(database_url, 100)
    _print(results, floor, poll_ms, args)
    return 0


def _measure(
    database_url: str, args: argparse.Namespace
) -> tuple[dict[tuple[str, int], Figures], list[float]]:
    """Every setup at every client count, one after the other, servers started once."""
    keys = delivery._prepare(database_url)
    results: dict[tuple[str, int], Figures] = {}
    with ExitStack() as servers:
        replicas = [servers.enter_context(delivery._serve(database_url)) for _ in range(2)]
        before = [
            servers.enter_context(delivery._serve(database_url, Path(args.before)))
            for _ in range(2 if args.before else 0)
        ]
        references = {
            stack: [servers.enter_context(_reference(stack)) for _ in range(2)]
            for stack in ("auto", "h11")
            if stack == "auto" or args.h11
        }
        _create_flag(replicas[0], keys)
        poll_ms = _poll_round_trips(replicas[1], keys["sdk"], 50)
        for clients in args.clients:
            if args.only != "reference":
                results["rheostat", clients] = _run_rheostat(replicas, keys, clients, args)
                if before:
                    results["before", clients] = _run_rheostat(before, keys, clients, args)
            if args.only != "rheostat":
                for stack, servers_ in references.items():
                    name = "reference" if stack == "auto" else "reference on h11"
                    results[name, clients] = _run_reference(servers_, clients, args)
    return results, poll_ms


def _print(
    results: dict[tuple[str, int], Figures],
    floor: list[float],
    poll_ms: list[float],
    args: argparse.Namespace,
) -> None:
    print(f"\n{args.changes} changes, {args.processes} client processes; latency in ms from the")
    print("write's (publish's) answer to the client holding the revision:")
    for (setup, clients), figures in results.items():
        _line(f"{setup}, {clients} clients", figures.latencies, figures.missing)
        for server, samples in sorted(figures.by_server.items()):
            _line(f"  of which on server {server}", samples, 0)
    for clients in args.clients:
        peer = results.get(("reference", clients))
        for setup in ("rheostat", "before", "reference on h11"):
            ours = results.get((setup, clients))
            if ours and peer and ours.latencies and peer.latencies:
                p50 = _p(ours.latencies, 0.5) / max(_p(peer.latencies, 0.5), 0.001)
                p99 = _p(ours.latencies, 0.99) / max(_p(peer.latencies, 0.99), 0.001)
                print(f"{setup} / reference at {clients} clients: p50 x{p50:.2f}, p99 x{p99:.2f}")
    _line("PostgreSQL NOTIFY -> LISTEN (floor)", floor, 0)
    rt50, rt99 = _p(poll_ms, 0.5), _p(poll_ms, 0.99)
    print(
        f"{'polling client, every 15 s (model)':<38} p50 {POLL_PERIOD_S * 500 + rt50:8.1f}"
        f"   p99 {POLL_PERIOD_S * 990 + rt99:8.1f}   (poll round trip p50 {rt50:.1f} ms)"
    )


def _line(setup: str, samples: list[float], missing: int) -> None:
    if not samples:
        print(f"{setup:<38} nothing arrived")
        return
    print(
        f"{setup:<38} p50 {_p(samples, 0.5):8.1f}   p99 {_p(samples, 0.99):8.1f}"
        f"   max {max(samples):8.1f}   n={len(samples)} missing={missing}"
    )


def _p(samples: list[float], quantile: float) -> float:
    if quantile == 0.5:
        return statistics.median(samples)
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * quantile))]


# --- the two setups -------------------------------------------------------------------------


def _create_flag(writer: str, keys: dict[str, str]) -> None:
    admin = {"Authorization": f"Bearer {keys['admin']}"}
    with httpx.Client(base_url=writer, headers=admin, timeout=30.0) as http:
        http.post(
            "/api/v1/flags",
            params={"environment": "production"},
            json={"key": "kill", "definition": delivery.FLAG},
        ).raise_for_status()


def _poll_round_trips(server: str, token: str, count: int) -> list[float]:
    samples = []
    with httpx.Client(base_url=server, timeout=30.0) as http:
        for _ in range(count):
            started = time.perf_counter()
            http.get("/api/v1/client/flags", headers={"Authorization": f"Bearer {token}"})
            samples.append((time.perf_counter() - started) * 1000)
    return samples


def _run_rheostat(
    replicas: list[str], keys: dict[str, str], clients: int, args: argparse.Namespace
) -> Figures:
    admin = {"Authorization": f"Bearer {keys['admin']}"}
    params = {"environment": "production"}
    with (
        httpx.Client(base_url=replicas[0], headers=admin, timeout=30.0) as http,
        _workers(replicas, "/api/v1/client/stream", keys["sdk"], clients, args) as workers,
    ):
        revision = int(
            http.get(
                "/api/v1/client/flags", headers={"Authorization": f"Bearer {keys['sdk']}"}
            ).headers["X-Rheostat-Revision"]
        )
        answered: dict[int, int] = {}
        for index in range(args.changes):
            action = "disable" if index % 2 == 0 else "enable"
            response = http.post(
                f"/api/v1/flags/kill/{action}", params=params, json={"reason": "bench"}
            )
            answered[revision + index + 1] = time.time_ns()
            response.raise_for_status()
            time.sleep(args.gap_s)
        return _collect(workers, answered)


def _run_reference(references: list[str], clients: int, args: argparse.Namespace) -> Figures:
    with (
        ThreadPoolExecutor(len(references)) as pool,
        ExitStack() as stack,
        _workers(references, "/stream", "none", clients, args) as workers,
    ):
        https = [stack.enter_context(httpx.Client(base_url=url)) for url in references]
        answered: dict[int, int] = {}
        for revision in range(1, args.changes + 1):
            sends = [
                pool.submit(http.post, "/publish", params={"revision": revision}) for http in https
            ]
            for send in sends:
                send.result().raise_for_status()
            answered[revision] = time.time_ns()
            time.sleep(args.gap_s)
        return _collect(workers, answered)


@contextmanager
def _workers(
    servers: list[str], path: str, token: str, clients: int, args: argparse.Namespace
) -> Iterator[list[subprocess.Popen[str]]]:
    """``--processes`` client processes, spread over ``servers``; each has all its streams."""
    per_process = clients // args.processes
    workers = [
        subprocess.Popen(  # noqa: S603  # this script, as a worker
            [
                sys.executable,
                __file__,
                "--worker",
                servers[i % len(servers)] + path,
                token,
                str(per_process),
                "x",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(args.processes)
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None
            line = worker.stdout.readline()  # "ready": every stream got its first event
            if not line.startswith("ready"):
                raise SystemExit(f"a client worker failed: {line!r}")
        time.sleep(0.5)
        yield workers
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()


def _collect(workers: list[subprocess.Popen[str]], answered: dict[int, int]) -> Figures:
    time.sleep(1.0)  # the last change's stragglers
    figures = Figures()
    for index, worker in enumerate(workers):
        output, _ = worker.communicate(input="done\n", timeout=120)
        lines = output.splitlines()
        received: list[list[int]] = json.loads(lines[-1])
        figures.expected += len(received) * len(answered)
        server = figures.by_server.setdefault("AB"[index % 2], [])  # as _workers spread them
        for per_client in received:
            got = dict(zip(per_client[::2], per_client[1::2], strict=True))
            samples = [
                (got[revision] - at) / 1e6 for revision, at in answered.items() if revision in got
            ]
            figures.latencies.extend(samples)
            server.extend(samples)
    return figures


# --- the client worker ----------------------------------------------------------------------


class _Stream(asyncio.Protocol):
    """One SSE connection: records (revision, time_ns) as each event completes."""

    def __init__(self, request: bytes, ready: asyncio.Future[None]) -> None:
        self.request = request
        self.ready = ready
        self.buffer = b""
        self.received: list[int] = []  # revision, time_ns, revision, time_ns, ...

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.time_ns()
        self.buffer += data
        end = self.buffer.rfind(b"\n\n")
        if end < 0:
            return
        complete, self.buffer = self.buffer[: end + 2], self.buffer[end + 2 :]
        for match in _ID.finditer(complete):
            if self.ready.done():
                self.received += (int(match[1]), now)
            else:
                self.ready.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"closed before the first event: {exc}"))


def _worker(url: str, token: str, count: str, _: str) -> int:
    return asyncio.run(_follow(url, token, int(count)))


async def _follow(url: str, token: str, count: int) -> int:
    parsed = httpx.URL(url)
    request = (
        f"GET {parsed.raw_path.decode()} HTTP/1.1\r\nHost: {parsed.host}:{parsed.port}\r\n"
        f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
    ).encode()
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(50)
    streams: list[_Stream] = []

    async def connect() -> None:
        async with gate:
            stream = _Stream(request, loop.create_future())
            streams.append(stream)
            await loop.create_connection(lambda: stream, parsed.host, parsed.port)
            await stream.ready

    try:
        await asyncio.gather(*(connect() for _ in range(count)))
    except Exception as error:  # noqa: BLE001  # reported to the coordinator
        print(f"failed: {error}", flush=True)
        return 1
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    print(json.dumps([stream.received for stream in streams]), flush=True)
    return 0


# --- the reference server -------------------------------------------------------------------


@contextmanager
def _reference(stack: str) -> Iterator[str]:
    def command(port: int) -> list[str]:
        return [sys.executable, __file__, "--reference-server", str(port), stack]

    with delivery._running(command, tries=300) as url:
        yield url


def _reference_server(port: int, stack: str) -> int:
    """A minimal Starlette SSE server: a queue per client, each event encoded once."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response, StreamingResponse
    from starlette.routing import Route

    queues: set[asyncio.Queue[bytes]] = set()
    flags = {"kill": delivery.FLAG}

    async def stream(_: Request) -> StreamingResponse:
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        queues.add(queue)

        async def events() -> Iterator[bytes]:  # type: ignore[misc]
            try:
                yield b"id: 0\nevent: flags\ndata: {}\n\n"
                while True:
                    yield await queue.get()
            finally:
                queues.discard(queue)

        return StreamingResponse(events(), media_type="text/event-stream")

    async def publish(request: Request) -> Response:
        revision = int(request.query_params["revision"])
        body = {"revision": revision, "base": revision - 1, "flags": flags, "segments": {}}
        data = json.dumps(body, separators=(",", ":")).encode()
        event = b"id: %d\nevent: patch\ndata: %s\n\n" % (revision, data)
        for queue in queues:
            queue.put_nowait(event)
        return Response(status_code=204)

    async def health(_: Request) -> Response:
        return Response(b"ok")

    routes = [
        Route("/stream", stream),
        Route("/publish", publish, methods=["POST"]),
        Route("/health", health),
    ]
    choice = {"loop": "asyncio", "http": "h11"} if stack == "h11" else {}
    uvicorn.run(
        Starlette(routes=routes), host="127.0.0.1", port=port, log_level="warning", **choice
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
