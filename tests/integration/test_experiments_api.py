"""``/api/v1/experiments`` and ``/api/v1/client/experiments`` end to end, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rheostat import Context, service
from rheostat.api import create_app
from rheostat.clock import FixedClock
from rheostat.flags import FlagSet
from rheostat.settings import Settings

PRODUCTION = {"environment": "production"}
EXPERIMENT = {
    "key": "checkout-copy",
    "description": "New checkout copy",
    "arms": [
        {"name": "control", "weight_percent": 50, "component": "old-copy"},
        {"name": "treatment", "weight_percent": 50, "component": "new-copy"},
    ],
    "metrics": [
        {"name": "latency_ms", "higher_is_better": False},
        {"name": "purchased", "kind": "proportion"},
    ],
    "duration_days": 14,
}


@dataclass
class Api:
    """A running app on a fresh database, its clock and two keys."""

    client: TestClient
    clock: FixedClock
    admin: dict[str, str]
    sdk: dict[str, str]


@pytest.fixture
def api(store_url: str) -> Iterator[Api]:
    service.migrate_database(store_url)
    store = service.open_store(store_url)
    service.transact(
        store, service.create_environment, "production", change=service.Change(actor="test")
    )
    service.transact(
        store, service.create_environment, "staging", change=service.Change(actor="test")
    )
    admin = service.transact(
        store,
        service.create_api_key,
        name="ops",
        scope="admin",
        change=service.Change(actor="test"),
    ).token
    sdk = service.transact(
        store,
        service.create_api_key,
        name="web",
        scope="sdk",
        environment="production",
        change=service.Change(actor="test"),
    ).token
    store.close()
    clock = FixedClock()
    with TestClient(create_app(Settings(database_url=store_url), clock=clock)) as client:
        yield Api(client, clock, _bearer(admin), _bearer(sdk))


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _sdk_traffic(api: Api) -> None:
    """What an application does: assign locally, then send exposures, metrics, conversions."""
    base = "/api/v1/client/experiments/checkout-copy"
    assignment = _ok(api.client.get(base, headers=api.sdk))
    flags = FlagSet.from_dict(assignment["document"])
    units = [f"user-{number}" for number in range(600)]
    arms = {unit: assign_arm(flags, unit) for unit in units}
    exposures = [{"unit": unit, "arm": arm} for unit, arm in arms.items()]
    body = {"exposures": exposures, "commit_sha": "9f1c2e7"}
    _ok(api.client.post(f"{base}/exposures", json=body, headers=api.sdk))
    events = [
        {
            "arm": arm,
            "metric": "latency_ms",
            "value": (240 if arm == "treatment" else 260) + (index * 37) % 61 - 30,
            "event_id": f"latency-{unit}",
        }
        for index, (unit, arm) in enumerate(arms.items())
    ]
    metrics = {"events": events}
    first = _ok(api.client.post(f"{base}/metrics", json=metrics, headers=api.sdk))
    retry = _ok(api.client.post(f"{base}/metrics", json=metrics, headers=api.sdk))
    assert (first["recorded"], retry["recorded"], retry["duplicates"]) == (600, 0, 600)
    buyers = [{"unit": unit, "metric": "purchased"} for unit in units[::3]]
    _ok(api.client.post(f"{base}/conversions", json={"conversions": buyers}, headers=api.sdk))


def assign_arm(flags: FlagSet, unit: str) -> str:
    """The arm an SDK computes from the assignment document."""
    evaluation = flags.evaluate("experiment.checkout-copy", Context(key=unit))
    assert evaluation.variant is not None
    return evaluation.variant


def test_an_experiment_runs_end_to_end_over_http(api: Api) -> None:
    # Given an experiment created and started with the admin key
    created = _ok(
        api.client.post(
            "/api/v1/experiments", params=PRODUCTION, json=EXPERIMENT, headers=api.admin
        ),
        201,
    )
    started = _ok(
        api.client.post(
            "/api/v1/experiments/checkout-copy/start",
            params=PRODUCTION,
            json={"reason": "go"},
            headers=api.admin,
        )
    )

    # When an SDK records its traffic, time passes, and an admin reads, replays and stops it
    _sdk_traffic(api)
    api.clock.advance(timedelta(minutes=2))
    results_url = "/api/v1/experiments/checkout-copy/results"
    now = _ok(api.client.get(results_url, params=PRODUCTION, headers=api.admin))
    api.clock.advance(timedelta(minutes=3))
    replay = _ok(
        api.client.get(results_url, params={**PRODUCTION, "at": now["at"]}, headers=api.admin)
    )
    stopped = _ok(
        api.client.post(
            "/api/v1/experiments/checkout-copy/stop", params=PRODUCTION, headers=api.admin
        )
    )
    listed = _ok(api.client.get("/api/v1/experiments", params=PRODUCTION, headers=api.admin))

    # Then the results show the latency win, and the replay is the stored document exactly
    assert (created["status"], started["status"], stopped["status"]) == (
        "draft",
        "running",
        "stopped",
    )
    results = now["results"]
    assert results["valid"] is True
    assert results["significant"] is True
    latency = next(row for row in results["comparisons"] if row["metric"] == "latency_ms")
    assert latency["improvement"] > 0
    assert latency["absolute"]["ci_upper"] < 0
    assert [arm["commits"] for arm in results["arms"]] == [["9f1c2e7"], ["9f1c2e7"]]
    assert sum(arm["units"] for arm in results["arms"]) == 600
    assert replay["replayed"] is True
    assert replay["matches_stored"] is True
    assert replay["results"] == results
    assert [item["status"] for item in listed["items"]] == ["stopped"]


def test_recording_is_refused_when_stopped_unknown_or_malformed(api: Api) -> None:
    # Given a stopped experiment
    api.client.post("/api/v1/experiments", params=PRODUCTION, json=EXPERIMENT, headers=api.admin)
    for step in ("start", "stop"):
        api.client.post(
            f"/api/v1/experiments/checkout-copy/{step}", params=PRODUCTION, headers=api.admin
        )
    base = "/api/v1/client/experiments"
    exposure = {"exposures": [{"unit": "user-1"}]}

    # When traffic is sent to it, to an unknown one, malformed, or for another environment
    stopped = api.client.post(f"{base}/checkout-copy/exposures", json=exposure, headers=api.sdk)
    unknown = api.client.post(f"{base}/nope/exposures", json=exposure, headers=api.sdk)
    malformed = api.client.post(
        f"{base}/checkout-copy/metrics",
        json={"events": [{"arm": "control", "metric": "latency_ms", "value": "fast"}]},
        headers=api.sdk,
    )
    elsewhere = api.client.post(
        f"{base}/checkout-copy/exposures",
        params={"environment": "staging"},
        json=exposure,
        headers=api.sdk,
    )
    admin_results = api.client.get(
        "/api/v1/experiments/nope/results", params=PRODUCTION, headers=api.admin
    )

    # Then each gets its status and the one error shape
    assert stopped.status_code == 409
    assert stopped.json()["error"]["code"] == "conflict"
    assert "stopped" in stopped.json()["error"]["message"]
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"
    assert malformed.status_code == 422
    assert malformed.json()["error"]["details"]["errors"][0]["path"] == "body.events[0].value"
    assert elsewhere.status_code == 403
    assert admin_results.status_code == 404


def test_weights_of_a_running_experiment_cannot_change(api: Api) -> None:
    # Given a running experiment
    api.client.post("/api/v1/experiments", params=PRODUCTION, json=EXPERIMENT, headers=api.admin)
    api.client.post("/api/v1/experiments/checkout-copy/start", params=PRODUCTION, headers=api.admin)
    url = "/api/v1/experiments/checkout-copy"
    arms = [{"name": "control", "weight_percent": 30}, {"name": "treatment", "weight_percent": 70}]

    # When its weights are changed, then its coverage
    reweighted = api.client.patch(url, params=PRODUCTION, json={"arms": arms}, headers=api.admin)
    covered = api.client.patch(
        url, params=PRODUCTION, json={"coverage_percent": 40}, headers=api.admin
    )

    # Then the weights are refused with a clear message and coverage changes
    assert reweighted.status_code == 422
    assert "would move assigned units" in reweighted.json()["error"]["message"]
    assert _ok(covered)["coverage_percent"] == 40
    assert covered.headers["ETag"] == '"3"'


@pytest.mark.parametrize(
    ("event", "field"),
    [
        pytest.param({"value": 1e308}, "events[0].value", id="value-1e308"),
        pytest.param({"value": -1e13}, "events[0].value", id="value-beyond-the-bound"),
        pytest.param({"n": 2, "sum": 1e308, "sum_squares": 1e308}, "events[0].sum", id="sum"),
        pytest.param(
            {"n": 2, "sum": 2.0, "sum_squares": 1e300}, "events[0].sum_squares", id="squares"
        ),
    ],
)
def test_a_metric_value_whose_square_could_overflow_is_refused_with_422(
    api: Api, event: dict[str, float], field: str
) -> None:
    # Given a running experiment
    api.client.post("/api/v1/experiments", params=PRODUCTION, json=EXPERIMENT, headers=api.admin)
    api.client.post("/api/v1/experiments/checkout-copy/start", params=PRODUCTION, headers=api.admin)
    base = "/api/v1/client/experiments/checkout-copy"

    # When a huge value is recorded, then an ordinary one
    huge = {"events": [{"arm": "control", "metric": "latency_ms", **event}]}
    refused = api.client.post(f"{base}/metrics", json=huge, headers=api.sdk)
    ordinary = {"events": [{"arm": "control", "metric": "latency_ms", "value": 1e12}]}
    accepted = api.client.post(f"{base}/metrics", json=ordinary, headers=api.sdk)

    # Then the huge one is refused naming the field and the bound; the largest allowed is kept
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["details"]["field"] == field
    assert "must be a finite number from" in refused.json()["error"]["message"]
    assert accepted.json()["recorded"] == 1
