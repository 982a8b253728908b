"""``POST /api/v1/client/metrics``: windows of sufficient statistics, on SQLite and PostgreSQL.

Issue 10: windows from many SDK processes add up, a retry with the same ``id`` is counted
once, and bad numbers are refused at the door naming the field.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rheostat import service
from rheostat.api import create_app
from rheostat.errors import ValidationError
from rheostat.metrics import MetricWindow, QuantileSketch, WindowKind
from rheostat.service import Change, SqlStore, transact
from rheostat.settings import Settings

ENV = "production"
START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def _errors(variant: str, n: int, successes: int, **extra: Any) -> dict[str, Any]:
    return {
        "flag": "hybrid_search", "variant": variant, "metric": "http_errors",
        "start": START.isoformat(), "seconds": 60, "kind": "proportion",
        "n": n, "successes": successes, **extra,
    }  # fmt: skip


def _latency(variant: str, n: int, total: float, squares: float) -> dict[str, Any]:
    return {
        "flag": "hybrid_search", "variant": variant, "metric": "latency_ms",
        "start": START.isoformat(), "seconds": 60, "kind": "mean",
        "n": n, "sum": total, "sum_squares": squares,
    }  # fmt: skip


@pytest.fixture
def keys(store: SqlStore) -> dict[str, dict[str, str]]:
    for environment in (ENV, "staging"):
        transact(store, service.create_environment, environment, change=Change(actor="setup"))
    made = {
        "sdk": transact(
            store,
            service.create_api_key,
            name="app",
            scope="sdk",
            environment=ENV,
            change=Change(actor="setup"),
        ),
        "admin": transact(
            store, service.create_api_key, name="ops", scope="admin", change=Change(actor="setup")
        ),
    }
    return {name: {"Authorization": f"Bearer {key.token}"} for name, key in made.items()}


@pytest.fixture
def client(store_url: str, store: SqlStore) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=store_url))) as test_client:
        yield test_client


def _totals(store: SqlStore, metric: str) -> dict[tuple[str, WindowKind], Any]:
    return transact(
        store, service.metric_totals, ENV, "hybrid_search", metric,
        since=START, until=START + timedelta(minutes=1),
    )  # fmt: skip


def test_windows_from_several_processes_add_up_and_retries_count_once(
    client: TestClient, keys: dict[str, dict[str, str]], store: SqlStore
) -> None:
    # Given two processes' windows for the same minute, one sent twice (a retry with its id)
    first = {
        "windows": [_errors("on", 1000, 12, id="p1-0900"), _latency("on", 3, 600.0, 130_000.0)]
    }
    second = {"windows": [_errors("on", 500, 8, id="p2-0900"), _errors("holdback", 1500, 15)]}

    # When they are posted (the first twice)
    answers = [
        client.post("/api/v1/client/metrics", json=body, headers=keys["sdk"])
        for body in (first, first, second)
    ]

    # Then the retry changed nothing, and the rest added up per variant
    assert [a.json() for a in answers] == [
        {"recorded": 2, "duplicates": 0},
        {"recorded": 1, "duplicates": 1},  # the latency window has no id: counted again
        {"recorded": 2, "duplicates": 0},
    ]
    errors = _totals(store, "http_errors")
    assert errors[("on", WindowKind.PROPORTION)].n == 1500
    assert errors[("on", WindowKind.PROPORTION)].sum == 20
    assert errors[("holdback", WindowKind.PROPORTION)].n == 1500
    assert _totals(store, "latency_ms")[("on", WindowKind.MEAN)].n == 6


def test_the_same_window_twice_in_one_batch_adds_up(
    client: TestClient, keys: dict[str, dict[str, str]], store: SqlStore
) -> None:
    body = {"environment": ENV, "windows": [_errors("on", 10, 1), _errors("on", 20, 2)]}
    answer = client.post("/api/v1/client/metrics", json=body, headers=keys["admin"])
    assert answer.status_code == 200, answer.text
    assert _totals(store, "http_errors")[("on", WindowKind.PROPORTION)].n == 30


@pytest.mark.parametrize(
    ("window", "field"),
    [
        (_errors("on", 10, 11), "windows[0].successes"),
        ({**_latency("on", 2, 1.0, 1.0), "sum": None}, "windows[0].sum"),
        (_latency("on", 2, 1e308, 1e308), "windows[0].sum"),
        (_latency("on", 2, 100.0, 1.0), "windows[0].sum_squares"),
        ({**_errors("on", 10, 1), "start": "2026-12-07T09:00:00"}, "windows[0].start"),
        ({**_errors("on", 10, 1), "kind": "median"}, "kind"),
        ({**_errors("on", 10, 1), "n": "10"}, "n"),
        ({**_errors("on", 10, 1), "n": True}, "n"),
    ],
    ids=[
        "successes>n",
        "no sum",
        "1e308",
        "impossible squares",
        "naive time",
        "kind",
        "n text",
        "n bool",
    ],
)
def test_bad_windows_are_refused_naming_the_field_and_nothing_is_stored(
    client: TestClient, keys: dict[str, dict[str, str]], store: SqlStore,
    window: dict[str, Any], field: str,
) -> None:  # fmt: skip
    answer = client.post("/api/v1/client/metrics", json={"windows": [window]}, headers=keys["sdk"])
    assert answer.status_code == 422, answer.text
    assert field in answer.text
    assert _totals(store, "http_errors") == {}


def test_an_sdk_key_records_only_into_its_own_environment(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    body = {"windows": [_errors("on", 10, 1)]}
    in_query = client.post(
        "/api/v1/client/metrics", params={"environment": "staging"}, json={"bad": 1},
        headers=keys["sdk"],
    )  # fmt: skip
    in_body = client.post(
        "/api/v1/client/metrics", json={**body, "environment": "staging"}, headers=keys["sdk"]
    )
    admin_unnamed = client.post("/api/v1/client/metrics", json=body, headers=keys["admin"])
    assert in_query.status_code == 403  # before the (invalid) body is even read
    assert in_body.status_code == 403
    assert admin_unnamed.status_code == 422
    assert "environment" in admin_unnamed.text


def test_windows_are_checked_when_built_in_python() -> None:
    with pytest.raises(ValidationError, match=r"window\.successes"):
        MetricWindow(
            flag="f", variant="on", metric="m", start=START, seconds=60,
            kind=WindowKind.PROPORTION, n=1, successes=2,
        )  # fmt: skip


def _sketched(variant: str, values: list[float], **extra: Any) -> dict[str, Any]:
    window = _latency(variant, len(values), sum(values), sum(v * v for v in values))
    return window | {"sketch": QuantileSketch.of(values).to_document()} | extra


def test_quantile_sketches_from_several_processes_merge_bin_by_bin(
    client: TestClient, keys: dict[str, dict[str, str]], store: SqlStore
) -> None:
    # Given two processes' latency windows for the same minute, with sketches (one retried)
    fast, slow = [10.0 + i for i in range(90)], [500.0 + i for i in range(10)]
    bodies = [
        {"windows": [_sketched("on", fast, id="p1"), _sketched("off", [20.0, 0.0])]},
        {"windows": [_sketched("on", slow, id="p2")]},
        {"windows": [_sketched("on", slow, id="p2")]},
    ]

    # When they are posted
    for body in bodies:
        answer = client.post("/api/v1/client/metrics", json=body, headers=keys["sdk"])
        assert answer.status_code == 200, answer.text

    # Then the stored sketch is the sketch of every value once: its p95 is in the slow tail
    totals = transact(
        store, service.metric_totals, ENV, "hybrid_search", "latency_ms",
        since=START, until=START + timedelta(minutes=1), sketches=True,
    )  # fmt: skip
    treatment = totals[("on", WindowKind.MEAN)]
    assert treatment.n == 100
    assert treatment.sketch == QuantileSketch.of(fast + slow)
    assert treatment.quantile(0.95) == pytest.approx(505.0, rel=0.01)
    assert totals[("off", WindowKind.MEAN)].sketch == QuantileSketch.of([20.0, 0.0])
    assert _totals(store, "latency_ms")[("on", WindowKind.MEAN)].sketch is None  # not asked


@pytest.mark.parametrize(
    ("sketch", "field"),
    [
        ({"positive": [[1, 5]]}, "windows[0].sketch"),  # 5 values in a window of n = 2
        ({"positive": [[1, 1], [1, 1]]}, "windows[0].sketch.positive[1][0]"),
        ({"accuracy": 0.05, "positive": [[1, 2]]}, "accuracy"),
        ({"positive": [[10**7, 2]]}, "positive"),
    ],
    ids=["count", "repeated bin", "accuracy", "bin range"],
)
def test_a_bad_sketch_is_refused_naming_the_field_and_nothing_is_stored(
    client: TestClient, keys: dict[str, dict[str, str]], store: SqlStore,
    sketch: dict[str, Any], field: str,
) -> None:  # fmt: skip
    window = _latency("on", 2, 3.0, 5.0) | {"sketch": sketch}
    answer = client.post("/api/v1/client/metrics", json={"windows": [window]}, headers=keys["sdk"])
    assert answer.status_code == 422, answer.text
    assert field in answer.text
    assert _totals(store, "latency_ms") == {}
