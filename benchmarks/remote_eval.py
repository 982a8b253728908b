"""Server throughput: the SDK document (304s) and the evaluate endpoints, next to a floor.

One ``rheostat serve`` on SQLite on loopback holds 20 flags (bool rollouts, targeted strings,
numbers, JSON, prerequisites, a segment). A load generator (asyncio, raw HTTP/1.1 keep-alive,
``--connections`` connections) drives one scenario at a time for ``--seconds``:

* ``floor``: a minimal Starlette app under the same uvicorn settings returning a fixed JSON
  body (what the web stack alone costs on this machine, same run);
* ``GET /api/v1/client/flags`` with ``If-None-Match`` (304) and without (200, whole document);
* OFREP single (``/ofrep/v1/evaluate/flags/{key}``), OFREP bulk (200 and 304);
* ``POST /api/v1/client/evaluate`` for one flag and for every flag.

Rounds are interleaved (every scenario once per round, the floor first), and each figure is the
median over rounds; the ratio is each round's requests/s over that round's floor. Every answer's
status is checked; a wrong one fails the run.

Run: ``.venv/bin/python benchmarks/remote_eval.py [--rounds 3] [--seconds 4]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

RHEOSTAT = Path(sys.executable).with_name("rheostat")
FLAG_COUNT = 20
CONTEXT = {"targetingKey": "user-42", "country": "CA", "plan": "pro", "org_id": "org-17"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Scenario:
    name: str
    request: bytes
    status: int


def main(argv: list[str] | None = None) -> int:
    """Print requests/s per scenario and the ratio to the floor."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--floor-server", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.floor_server:
        return _run_floor(args.floor_server)
    with tempfile.TemporaryDirectory() as folder:
        database_url = f"sqlite:///{Path(folder) / 'rheostat.db'}"
        keys = _prepare(database_url)
        with _serve_rheostat(database_url) as rheostat_port, _serve_floor() as floor_port:
            scenarios = _scenarios(rheostat_port, keys)
            rates = _measure(
                floor_port, rheostat_port, scenarios, args.rounds, args.seconds, args.connections
            )
    _report(rates, args)
    return 0


def _flags() -> dict[str, dict[str, object]]:
    flags: dict[str, dict[str, object]] = {}
    for index in range(FLAG_COUNT):
        kind = index % 5
        if kind == 0:  # a bool rollout behind a plan rule
            flags[f"rollout-{index}"] = {
                "rules": [
                    {"when": [{"attribute": "plan", "op": "eq", "value": "pro"}], "serve": "on"},
                    {"serve": {"split": {"on": 25, "off": 75}, "by": "key"}},
                ]
            }
        elif kind == 1:  # a string flag targeted by country and segment
            flags[f"copy-{index}"] = {
                "variants": {"a": "old copy", "b": "new copy"},
                "default": "a",
                "rules": [
                    {
                        "when": [
                            {"attribute": "country", "op": "in", "values": ["CA", "US"]},
                            {"attribute": "key", "op": "in_segment", "values": ["pilot"]},
                        ],
                        "serve": "b",
                    }
                ],
            }
        elif kind == 2:  # a number flag
            flags[f"limit-{index}"] = {
                "variants": {"low": 10, "high": 100},
                "default": "low",
                "targets": [{"variant": "high", "keys": ["user-1", "user-42"]}],
            }
        elif kind == 3:  # a JSON flag, static
            flags[f"config-{index}"] = {
                "variants": {"v1": {"retries": 3, "backoff": [0.1, 0.5, 2.0]}},
                "default": "v1",
            }
        else:  # a flag with a prerequisite
            flags[f"upsell-{index}"] = {
                "prerequisites": [{"flag": f"rollout-{index - 4}", "variants": ["on"]}],
                "rules": [{"serve": "on"}],
            }
    return flags


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


def _scenarios(port: int, keys: dict[str, str]) -> list[Scenario]:
    base = f"http://127.0.0.1:{port}"
    admin = {"Authorization": f"Bearer {keys['admin']}"}
    sdk = {"Authorization": f"Bearer {keys['sdk']}"}
    params = {"environment": "production"}
    with httpx.Client(base_url=base, timeout=30.0) as http:
        segment = {"conditions": [{"attribute": "org_id", "op": "in", "values": ["org-17"]}]}
        created = http.post(
            "/api/v1/segments",
            params=params,
            headers=admin,
            json={"key": "pilot", "definition": segment},
        )
        created.raise_for_status()
        for key, definition in _flags().items():
            response = http.post(
                "/api/v1/flags",
                params=params,
                headers=admin,
                json={"key": key, "definition": definition},
            )
            response.raise_for_status()
        document_etag = http.get("/api/v1/client/flags", headers=sdk).headers["ETag"]
        body = json.dumps({"context": CONTEXT}).encode()
        bulk = http.post("/ofrep/v1/evaluate/flags", headers=sdk, content=body)
        bulk.raise_for_status()
        bulk_etag = bulk.headers["ETag"]
    token = keys["sdk"]
    evaluate_one = json.dumps(
        {"context": {"key": "user-42", "attributes": CONTEXT}, "flags": ["rollout-0"]}
    ).encode()
    evaluate_all = json.dumps({"context": {"key": "user-42", "attributes": CONTEXT}}).encode()
    return [
        Scenario(
            name="GET /api/v1/client/flags (304)",
            request=_request("GET", "/api/v1/client/flags", token, etag=document_etag),
            status=304,
        ),
        Scenario(
            name="GET /api/v1/client/flags (200)",
            request=_request("GET", "/api/v1/client/flags", token),
            status=200,
        ),
        Scenario(
            name="OFREP single",
            request=_request("POST", "/ofrep/v1/evaluate/flags/rollout-0", token, body=body),
            status=200,
        ),
        Scenario(
            name=f"OFREP bulk ({FLAG_COUNT} flags, 200)",
            request=_request("POST", "/ofrep/v1/evaluate/flags", token, body=body),
            status=200,
        ),
        Scenario(
            name="OFREP bulk (304)",
            request=_request("POST", "/ofrep/v1/evaluate/flags", token, body=body, etag=bulk_etag),
            status=304,
        ),
        Scenario(
            name="POST /api/v1/client/evaluate (1 flag)",
            request=_request("POST", "/api/v1/client/evaluate", token, body=evaluate_one),
            status=200,
        ),
        Scenario(
            name=f"POST /api/v1/client/evaluate ({FLAG_COUNT} flags)",
            request=_request("POST", "/api/v1/client/evaluate", token, body=evaluate_all),
            status=200,
        ),
    ]


def _request(
    method: str, path: str, token: str | None, *, body: bytes = b"", etag: str | None = None
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    if etag:
        lines.append(f"If-None-Match: {etag}")
    if method == "POST":
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _measure(
    floor_port: int,
    port: int,
    scenarios: list[Scenario],
    rounds: int,
    seconds: float,
    connections: int,
) -> dict[str, list[float]]:
    floor = Scenario(name="floor", request=_request("GET", "/", None), status=200)
    rates: dict[str, list[float]] = {"floor": [], **{s.name: [] for s in scenarios}}
    for _ in range(rounds):
        rates["floor"].append(asyncio.run(_drive(floor_port, floor, seconds, connections)))
        for scenario in scenarios:
            rates[scenario.name].append(asyncio.run(_drive(port, scenario, seconds, connections)))
    return rates


async def _drive(port: int, scenario: Scenario, seconds: float, connections: int) -> float:
    """Requests per second answered with the expected status, after a short warm-up."""
    warm_until = time.perf_counter() + min(1.0, seconds / 4)
    stop_at = warm_until + seconds
    counts = [0] * connections

    async def one_connection(slot: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while (now := time.perf_counter()) < stop_at:
                writer.write(scenario.request)
                status = await _read_response(reader)
                if status != scenario.status:
                    raise SystemExit(f"{scenario.name}: answered {status}, not {scenario.status}")
                if now >= warm_until:
                    counts[slot] += 1
        finally:
            writer.close()

    await asyncio.gather(*(one_connection(slot) for slot in range(connections)))
    return sum(counts) / seconds


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


def _report(rates: dict[str, list[float]], args: argparse.Namespace) -> None:
    floors = rates["floor"]
    print(
        f"one rheostat serve (SQLite) and a Starlette floor on loopback; {args.connections}"
        f" connections, {args.rounds} rounds of {args.seconds:g} s; median over rounds"
    )
    print(f"{'scenario':<42} {'requests/s':>11} {'vs floor':>9}")
    for name, samples in rates.items():
        ratio = statistics.median(rate / floor for rate, floor in zip(samples, floors, strict=True))
        print(f"{name:<42} {statistics.median(samples):>11.0f} {ratio:>9.2f}")


# Servers ------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def _process_on(command: list[str], port: int, ready_path: str) -> Iterator[int]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    try:
        for _ in range(600):
            try:
                if (
                    httpx.get(f"http://127.0.0.1:{port}{ready_path}", timeout=1.0).status_code
                    == 200
                ):
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise SystemExit(f"{command[0]} did not start")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def _serve_rheostat(database_url: str) -> Iterator[int]:
    port = _free_port()
    command = [str(RHEOSTAT), "serve", "--port", str(port), "--database-url", database_url]
    with _process_on(command, port, "/health") as ready:
        yield ready


@contextmanager
def _serve_floor() -> Iterator[int]:
    port = _free_port()
    command = [sys.executable, __file__, "--floor-server", str(port)]
    with _process_on(command, port, "/") as ready:
        yield ready


def _run_floor(port: int) -> int:
    """A minimal Starlette app under uvicorn with ``rheostat serve``'s settings."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    body = json.dumps({"key": "rollout-0", "value": True, "reason": "SPLIT"}).encode()

    async def fixed(_: Request) -> Response:
        return Response(body, media_type="application/json")

    uvicorn.run(
        Starlette(routes=[Route("/", fixed)]), host="127.0.0.1", port=port, log_level="info"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
