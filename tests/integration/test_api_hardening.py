"""Hardening of the HTTP API: security headers, CORS, rate limits per key, no tracebacks in
responses, no secrets in logs, sdk keys held to their environment.

In process on a real, migrated SQLite file; rate limits on the store's ``FixedClock``, so the
bucket refills only when the test moves time.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from rheostat import service
from rheostat.api import create_app
from rheostat.clock import FixedClock
from rheostat.service import Change, SqlStore, transact
from rheostat.settings import Settings

ENV = {"environment": "production"}
ORIGIN = "https://ops.example.com"


class Keys:
    def __init__(self, store: SqlStore) -> None:
        for environment in ("production", "staging"):
            transact(store, service.create_environment, environment, change=Change(actor="s"))
        transact(store, service.create_flag, "production", "checkout", {}, change=Change(actor="s"))
        self.admin = self._make(store, "ops", "admin", None)
        self.other_admin = self._make(store, "ci", "admin", None)
        self.sdk = self._make(store, "app", "sdk", "production")

    @staticmethod
    def _make(store: SqlStore, name: str, scope: str, environment: str | None) -> str:
        created = transact(
            store, service.create_api_key, name=name, scope=scope, environment=environment,
            change=Change(actor="s"),
        )  # fmt: skip
        return created.token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def keys(store: SqlStore) -> Keys:
    return Keys(store)


def serve(sqlite_url: str, clock: FixedClock | None = None, **settings: object) -> TestClient:
    app = create_app(Settings(database_url=sqlite_url, **settings), clock=clock)  # type: ignore[arg-type]
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def client(sqlite_url: str, store: SqlStore) -> Iterator[TestClient]:
    with serve(sqlite_url) as test_client:
        yield test_client


# Security headers


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_every_response_carries_the_security_headers(client: TestClient, keys: Keys) -> None:
    # When the API answers a read, an error, the SDK document and the docs page
    read = client.get("/api/v1/flags/checkout", params=ENV, headers=bearer(keys.admin))
    refused = client.get("/api/v1/flags/checkout", params=ENV)
    document = client.get("/api/v1/client/flags", headers=bearer(keys.sdk))
    health = client.get("/health")
    docs = client.get("/docs")

    # Then each carries nosniff, no framing and no referrer
    for response in (read, refused, document, health, docs):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "no-referrer"
    # And JSON may load nothing, while the docs page may load Swagger UI from its CDN
    for response in (read, refused, document, health):
        assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert "https://cdn.jsdelivr.net" in docs.headers["Content-Security-Policy"]
    # And admin answers are never stored by caches; the SDK document keeps its ETag caching
    assert read.headers["Cache-Control"] == refused.headers["Cache-Control"] == "no-store"
    assert document.headers["Cache-Control"] == "no-cache"
    assert "ETag" in document.headers


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_an_html_page_gets_the_configured_policy_unless_it_sets_its_own(
    sqlite_url: str, store: SqlStore
) -> None:
    # Given an app with a custom HTML policy and two HTML pages, one setting its own
    client = serve(sqlite_url, html_csp="default-src 'self'; img-src 'self' data:")
    app = client.app
    assert isinstance(app, FastAPI)

    from fastapi.responses import HTMLResponse

    app.add_api_route("/page", lambda: HTMLResponse("<p>hi</p>"))
    app.add_api_route(
        "/own",
        lambda: HTMLResponse(
            "<p>own</p>", headers={"Content-Security-Policy": "default-src 'self'"}
        ),
    )
    with client:
        # When both are read
        page = client.get("/page")
        own = client.get("/own")

    # Then the first carries RHEOSTAT_HTML_CSP and the second keeps its own
    assert page.headers["Content-Security-Policy"] == "default-src 'self'; img-src 'self' data:"
    assert own.headers["Content-Security-Policy"] == "default-src 'self'"
    assert "Cache-Control" not in page.headers  # not an API answer


# CORS


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_cross_origin_calls_are_refused_by_default(client: TestClient, keys: Keys) -> None:
    # When a browser at another origin sends a preflight and a simple request
    preflight = client.options(
        "/api/v1/flags",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"},
    )
    simple = client.get("/health", headers={"Origin": ORIGIN})

    # Then nothing allows the origin, so the browser refuses both
    assert "access-control-allow-origin" not in preflight.headers
    assert preflight.status_code >= 400
    assert "access-control-allow-origin" not in simple.headers


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_listed_origins_are_allowed_and_others_are_not(
    sqlite_url: str, store: SqlStore, keys: Keys
) -> None:
    # Given RHEOSTAT_CORS_ORIGINS listing one origin
    with serve(sqlite_url, cors_origins=f"{ORIGIN}, https://other.example.com") as client:
        # When the listed origin and an unlisted one send preflights, and the listed one reads
        allowed = client.options(
            "/api/v1/flags",
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization",
            },
        )
        unlisted = client.options(
            "/api/v1/flags",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
        read = client.get(
            "/api/v1/flags", params=ENV, headers={**bearer(keys.admin), "Origin": ORIGIN}
        )

    # Then only the listed origin is allowed, with the Authorization header
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    assert unlisted.headers.get("access-control-allow-origin") != "https://evil.example"
    assert read.status_code == 200
    assert read.headers["access-control-allow-origin"] == ORIGIN
    assert "ETag" in read.headers["access-control-expose-headers"]


# Rate limits


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_key_over_its_rate_gets_429_with_retry_after_then_recovers(
    sqlite_url: str, store: SqlStore, keys: Keys
) -> None:
    # Given 1 request per second per key, in bursts of 3, on a clock that moves when told
    clock = FixedClock()
    with serve(sqlite_url, clock, rate_limit_per_second=1.0, rate_limit_burst=3) as client:
        admin = bearer(keys.admin)

        # When one key makes four requests at once
        answers = [client.get("/api/v1/environments", headers=admin) for _ in range(4)]
        # And another key, a keyless call and /health are made meanwhile
        other = client.get("/api/v1/environments", headers=bearer(keys.other_admin))
        keyless = client.get("/api/v1/environments")
        health = client.get("/health", headers=admin)
        # And time moves one second
        clock.advance(timedelta(seconds=1))
        recovered = client.get("/api/v1/environments", headers=admin)
        again = client.get("/api/v1/environments", headers=admin)
        limited = client.get("/metrics").text

    # Then the burst passes and the fourth is refused in the error shape, with Retry-After
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    refused = answers[3]
    assert refused.headers["Retry-After"] == "1"
    assert refused.json()["error"]["code"] == "rate_limited"
    assert refused.json()["error"]["details"]["retry_after_s"] == 1
    assert refused.headers["X-Content-Type-Options"] == "nosniff"
    # And the other key, the keyless call and /health are not limited by it
    assert other.status_code == 200
    assert keyless.status_code == 401
    assert health.status_code == 200
    # And a second later one more request passes, not two
    assert recovered.status_code == 200
    assert again.status_code == 429
    assert re.search(r"^rheostat_rate_limited_requests_total 2\.0$", limited, re.MULTILINE)


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_the_x_api_key_header_shares_the_bearer_bucket(
    sqlite_url: str, store: SqlStore, keys: Keys
) -> None:
    # Given a burst of 1 and no refill
    with serve(sqlite_url, FixedClock(), rate_limit_per_second=0.5, rate_limit_burst=1) as client:
        # When one key is sent once as Bearer and then as X-API-Key
        first = client.get("/api/v1/environments", headers=bearer(keys.admin))
        second = client.get("/api/v1/environments", headers={"X-API-Key": keys.admin})

    # Then the second is over the limit: it is the same key
    assert (first.status_code, second.status_code) == (200, 429)
    assert second.headers["Retry-After"] == "2"


# Errors and logs


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_an_unexpected_failure_answers_500_in_the_error_shape_without_a_traceback(
    sqlite_url: str, store: SqlStore, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a route that fails with an unexpected exception
    client = serve(sqlite_url)
    app = client.app
    assert isinstance(app, FastAPI)

    def explode(item: str) -> None:
        raise RuntimeError(f"internal detail {item} at /srv/rheostat/secret_module.py")

    app.add_api_route("/api/v1/boom/{item}", explode)
    caplog.set_level(logging.ERROR, logger="rheostat.api")
    with client:
        # When it is called
        response = client.get("/api/v1/boom/x1")
        samples = client.get("/metrics").text

    # Then the answer is the one error shape, naming nothing of the failure
    assert response.status_code == 500
    assert response.json() == {
        "error": {
            "code": "internal_error",
            "message": "the server failed to answer this request; the error is in its log",
            "details": {},
        }
    }
    for leak in ("Traceback", "RuntimeError", "internal detail", "secret_module", 'File "'):
        assert leak not in response.text
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # And the traceback is in the server's log, with the route template, and the 500 counted
    assert "RuntimeError: internal detail x1" in caplog.text
    assert "GET /api/v1/boom/{item}" in caplog.text
    assert 'route="/api/v1/boom/{item}",status="5xx"' in samples


def test_secrets_never_reach_the_logs_or_the_health_report(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a server whose PostgreSQL URL carries a password, and that cannot reach it
    password = "pw-Zq81xv"  # noqa: S105  # a test value, the thing that must not leak
    token = "rh_admin_" + "k" * 40
    caplog.set_level(logging.DEBUG)
    settings = Settings(database_url=f"postgresql://rheostat:{password}@127.0.0.1:1/rheostat")
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        # When it is asked for its health, and called with an API key in both headers
        health = client.get("/health")
        client.get("/api/v1/environments", headers=bearer(token))
        client.get("/api/v1/environments", headers={"X-API-Key": token})
        metrics = client.get("/metrics")

    # Then the report says the database is unreachable, without the password
    assert health.status_code == 503
    assert health.json()["database"] == "unreachable"
    for text in (health.text, metrics.text, caplog.text):
        assert password not in text
        assert token not in text


# sdk keys are held to their environment


def _client_routes() -> list[tuple[str, str]]:
    app = create_app(Settings(database_url="sqlite://"))
    return sorted(
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith("/api/v1/client/")
        for method in operations
    )


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("method", "path"), _client_routes())
def test_an_sdk_key_cannot_use_another_environment_on_any_sdk_route(
    client: TestClient, keys: Keys, method: str, path: str
) -> None:
    # Given an sdk key of production / When it names staging on an SDK route
    body = {"instance_id": "web-1", "revision": 0} if path.endswith("/heartbeat") else {}
    response = client.request(
        method,
        path.replace("{key}", "checkout"),
        params={"environment": "staging"},
        headers=bearer(keys.sdk),
        json=body if method == "POST" else None,
    )

    # Then it is refused, whatever the route
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_an_sdk_key_cannot_name_another_environment_in_a_metrics_body(
    client: TestClient, keys: Keys
) -> None:
    # Given an sdk key of production / When its metric batch names staging in the body
    response = client.post(
        "/api/v1/client/metrics",
        json={"environment": "staging", "windows": []},
        headers=bearer(keys.sdk),
    )

    # Then it is refused
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "permission_denied"
