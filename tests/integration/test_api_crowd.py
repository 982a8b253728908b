"""A crowd of API requests larger than the connection pool is served, not deadlocked.

Each route's transaction waits for a database slot on the event loop before it takes a pooled
connection. Without the slots, 300 concurrent requests on PostgreSQL deadlocked: every request
held a connection while waiting for a worker thread, every worker thread waited for a
connection, and all of them got 503 after the pool's 30 s timeout. A real ``rheostat serve``
on one real PostgreSQL; the requests are admin reads and writes, which use the ``Transaction``
dependency (the SDK routes have their own short path).
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from live_servers import prepare_database, start_server

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

CROWD = 300


async def _crowd(url: str, headers: dict[str, str]) -> list[int]:
    limits = httpx.Limits(max_connections=CROWD, max_keepalive_connections=CROWD)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=25) as http:

        async def one(n: int) -> int:
            if n % 10 == 0:  # a write among the reads
                body = {"key": f"crowd-{n}", "reason": "crowd"}
                answer = await http.post("/api/v1/flags?environment=production", json=body)
            else:
                answer = await http.get("/api/v1/flags?environment=production")
            return answer.status_code

        return list(await asyncio.gather(*(one(n) for n in range(CROWD))))


def test_a_crowd_larger_than_the_pool_is_served(postgres_url: str) -> None:
    keys = prepare_database(postgres_url)
    with start_server(postgres_url) as server:
        statuses = asyncio.run(_crowd(server.url, keys.admin))

    assert len(statuses) == CROWD
    assert set(statuses) <= {200, 201}, sorted(set(statuses))
