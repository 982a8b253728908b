"""Kill switches in real FastAPI, Flask and Django apps, through each framework's test client.

The client reads a flag file; a test kills the flag by rewriting the file and reloading, as an
operator's change would arrive. Seed 004's shapes: 503 when the kill switch is off, and a
``/health`` that lists the app's kill switches.
"""

from __future__ import annotations

import json
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import django
import flask
import pytest
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.test import Client as DjangoClient
from django.urls import clear_url_caches, path
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import rheostat
from rheostat.integrations import FLAG_DISABLED, kill_switch_health
from rheostat.integrations import django as django_flags
from rheostat.integrations import fastapi as flags
from rheostat.integrations import flask as flask_flags

DASHBOARD = "consolidated-metrics"


def _document(*, dashboard_enabled: bool) -> dict[str, Any]:
    dashboard = {
        "enabled": dashboard_enabled,
        "variants": {"on": True, "off": False},
        "default": "off",
        "rules": [
            {"when": [{"attribute": "key", "op": "eq", "values": ["blocked"]}], "serve": "off"},
            {"serve": "on"},
        ],
    }
    phase6 = {"variants": {"on": True, "off": False}, "default": "off"}
    return {"version": 1, "flags": {DASHBOARD: dashboard, "phase6-metrics": phase6}}


@pytest.fixture
def flags_file(tmp_path: Path) -> Path:
    path = tmp_path / "flags.json"
    path.write_text(json.dumps(_document(dashboard_enabled=True)))
    return path


@pytest.fixture
def client(flags_file: Path) -> Iterator[rheostat.Client]:
    with rheostat.Client.from_file(flags_file, watch=False) as client:
        yield client


def _kill(client: rheostat.Client, flags_file: Path) -> None:
    flags_file.write_text(json.dumps(_document(dashboard_enabled=False)))
    assert client.reload()


def _failing_context(request: object) -> rheostat.Context:
    raise RuntimeError("the application's context builder is broken")


def _assert_disabled(status: int, body: Any, flag: str = DASHBOARD) -> None:
    assert status == 503
    assert body == {
        "error": {
            "code": FLAG_DISABLED,
            "message": f"{flag} is disabled",
            "details": {"flag": flag},
        }
    }


# FastAPI ------------------------------------------------------------------------------------


def _fastapi_app(client: rheostat.Client, *, install: bool = True) -> FastAPI:
    app = FastAPI()
    if install:
        flags.install(app)

    @app.get("/metrics", dependencies=[Depends(flags.require_flag(client, DASHBOARD))])
    def metrics() -> dict[str, int]:
        return {"total_tokens": 121355}

    @app.get("/open", dependencies=[Depends(flags.require_flag(
        client, DASHBOARD, default=True, context=_failing_context))])  # fmt: skip
    def fails_open() -> dict[str, bool]:
        return {"served": True}

    @app.get("/closed", dependencies=[Depends(flags.require_flag(
        client, DASHBOARD, context=_failing_context))])  # fmt: skip
    def fails_closed() -> dict[str, bool]:
        return {"served": True}

    @app.get("/health")
    def health() -> dict[str, Any]:
        names = {"phase6_metrics": "phase6-metrics", "consolidated_metrics": DASHBOARD}
        return {**kill_switch_health(client, names), "database": "connected"}

    return app


def test_fastapi_answers_503_naming_the_flag_once_it_is_killed(
    client: rheostat.Client, flags_file: Path
) -> None:
    # Given a FastAPI endpoint behind the flag
    http = TestClient(_fastapi_app(client))

    # When users call it, before and after the kill
    before = http.get("/metrics", headers={"X-User-Id": "user-1"})
    blocked = http.get("/metrics", headers={"X-User-Id": "blocked"})
    _kill(client, flags_file)
    after = http.get("/metrics", headers={"X-User-Id": "user-1"})

    # Then it served, except for the user the flag is off for, and after the kill it is a 503
    assert (before.status_code, before.json()) == (200, {"total_tokens": 121355})
    _assert_disabled(blocked.status_code, blocked.json())
    _assert_disabled(after.status_code, after.json())


def test_fastapi_without_install_keeps_fastapis_detail_shape(client: rheostat.Client) -> None:
    # Given an app that did not install the handler
    http = TestClient(_fastapi_app(client, install=False))

    # When the flag is off for the caller
    response = http.get("/metrics", headers={"X-User-Id": "blocked"})

    # Then FastAPI's own shape, as seed 004's smoke tests read it, still names the flag
    assert (response.status_code, response.json()) == (
        503,
        {"detail": f"{DASHBOARD} is disabled"},
    )


def test_fastapi_serves_the_declared_default_when_evaluation_fails(
    client: rheostat.Client,
) -> None:
    # Given endpoints whose context builder raises: one fails open, one closed
    http = TestClient(_fastapi_app(client))

    # When each is called
    opened = http.get("/open")
    closed = http.get("/closed")

    # Then neither is a 500: the open one serves, the closed one is a 503
    assert (opened.status_code, opened.json()) == (200, {"served": True})
    _assert_disabled(closed.status_code, closed.json())


def test_the_health_helper_lists_the_kill_switches_as_seed_004_expects(
    client: rheostat.Client, flags_file: Path
) -> None:
    # Given an app's /health built with the helper
    http = TestClient(_fastapi_app(client))

    # When it is read before and after the dashboard's kill
    before = http.get("/health").json()
    _kill(client, flags_file)
    after = http.get("/health").json()

    # Then it lists each switch by the app's name, with the flag client's state
    assert before == {
        "status": "healthy",
        "database": "connected",
        "kill_switches": {"phase6_metrics": False, "consolidated_metrics": True},
        "flags": {"status": "ready", "revision": None},
    }
    assert after["kill_switches"] == {"phase6_metrics": False, "consolidated_metrics": False}


def test_the_health_helper_answers_for_unknown_flags_and_bare_flag_sets() -> None:
    # Given a bare FlagSet without the flag asked for
    flags = rheostat.FlagSet.from_dict(_document(dashboard_enabled=True))

    # When the health is read for a known and an unknown flag, failing open
    health = kill_switch_health(flags, [DASHBOARD, "unknown"], default=True)

    # Then the unknown one is the default, and there is no client state to report
    assert health == {"status": "healthy", "kill_switches": {DASHBOARD: True, "unknown": True}}


def test_a_plain_starlette_app_awaits_the_gate_and_renders_the_503(
    client: rheostat.Client,
) -> None:
    # Given a Starlette endpoint that awaits the gate, with the handler registered
    gate = flags.require_flag(client, DASHBOARD)

    async def metrics(request: Request) -> JSONResponse:
        await gate(request)
        return JSONResponse({"total_tokens": 121355})

    app = Starlette(
        routes=[Route("/metrics", metrics)],
        exception_handlers={flags.FlagDisabled: flags.flag_disabled_response},
    )
    http = TestClient(app)

    # When a user the flag serves and one it does not call it
    served = http.get("/metrics", headers={"X-User-Id": "user-1"})
    blocked = http.get("/metrics", headers={"X-User-Id": "blocked"})

    # Then the first is served and the second is the 503 naming the flag
    assert (served.status_code, served.json()) == (200, {"total_tokens": 121355})
    _assert_disabled(blocked.status_code, blocked.json())


# Flask --------------------------------------------------------------------------------------


def _flask_app(client: rheostat.Client) -> flask.Flask:
    app = flask.Flask(__name__)

    @app.get("/metrics")
    @flask_flags.require_flag(client, DASHBOARD, user_header=None, user_cookie="uid")
    def metrics() -> dict[str, int]:
        return {"total_tokens": 121355}

    @app.get("/open")
    @flask_flags.require_flag(client, DASHBOARD, default=True, context=_failing_context)
    def fails_open() -> dict[str, bool]:
        return {"served": True}

    @app.get("/unknown")
    @flask_flags.require_flag(client, "no-such-flag", message="Consolidated metrics disabled")
    def unknown() -> dict[str, bool]:
        return {"served": True}

    return app


def test_flask_answers_503_naming_the_flag_once_it_is_killed(
    client: rheostat.Client, flags_file: Path
) -> None:
    # Given a Flask view behind the flag, the user id in a cookie
    http = _flask_app(client).test_client()

    # When users call it, before and after the kill
    http.set_cookie("uid", "user-1")
    before = http.get("/metrics")
    http.set_cookie("uid", "blocked")
    blocked = http.get("/metrics")
    http.set_cookie("uid", "user-1")
    _kill(client, flags_file)
    after = http.get("/metrics")

    # Then it served, except for the user the flag is off for, and after the kill it is a 503
    assert (before.status_code, before.get_json()) == (200, {"total_tokens": 121355})
    _assert_disabled(blocked.status_code, blocked.get_json())
    _assert_disabled(after.status_code, after.get_json())
    assert after.mimetype == "application/json"


def test_flask_fails_open_or_closed_as_declared(client: rheostat.Client) -> None:
    # Given a view failing open on a broken context, and one gated by an unknown flag
    http = _flask_app(client).test_client()

    # When each is called
    opened = http.get("/open")
    unknown = http.get("/unknown")

    # Then the first serves and the second is closed, with the app's own message
    assert (opened.status_code, opened.get_json()) == (200, {"served": True})
    assert unknown.status_code == 503
    assert unknown.get_json()["error"] == {
        "code": FLAG_DISABLED,
        "message": "Consolidated metrics disabled",
        "details": {"flag": "no-such-flag"},
    }


# Django -------------------------------------------------------------------------------------

DJANGO_URLS = "rheostat_test_integration_urls"


@pytest.fixture
def django_client(client: rheostat.Client) -> Iterator[Any]:
    if not settings.configured:
        settings.configure(
            DEBUG=False,
            SECRET_KEY="test-only",  # noqa: S106  # a test settings module
            ALLOWED_HOSTS=["testserver"],
            ROOT_URLCONF=DJANGO_URLS,
            MIDDLEWARE=[],
            INSTALLED_APPS=[],
        )
        django.setup()

    @django_flags.require_flag(client, DASHBOARD)
    def metrics(request: HttpRequest) -> JsonResponse:
        return JsonResponse({"total_tokens": 121355})

    @django_flags.require_flag(client, DASHBOARD)
    async def metrics_async(request: HttpRequest) -> JsonResponse:
        return JsonResponse({"total_tokens": 121355})

    @django_flags.require_flag(client, DASHBOARD, default=True, context=_failing_context)
    def fails_open(request: HttpRequest) -> JsonResponse:
        return JsonResponse({"served": True})

    urls = types.ModuleType(DJANGO_URLS)
    urls.urlpatterns = [  # type: ignore[attr-defined]
        path("metrics", metrics),
        path("metrics-async", metrics_async),
        path("open", fails_open),
    ]
    sys.modules[DJANGO_URLS] = urls
    clear_url_caches()
    try:
        yield DjangoClient()
    finally:
        del sys.modules[DJANGO_URLS]
        clear_url_caches()


def test_django_answers_503_naming_the_flag_once_it_is_killed(
    client: rheostat.Client, flags_file: Path, django_client: Any
) -> None:
    # Given sync and async Django views behind the flag
    # When users call them, before and after the kill
    before = django_client.get("/metrics", headers={"X-User-Id": "user-1"})
    before_async = django_client.get("/metrics-async", headers={"X-User-Id": "user-1"})
    blocked = django_client.get("/metrics", headers={"X-User-Id": "blocked"})
    _kill(client, flags_file)
    after = django_client.get("/metrics", headers={"X-User-Id": "user-1"})
    after_async = django_client.get("/metrics-async", headers={"X-User-Id": "user-1"})

    # Then they served, except for the user the flag is off for, and after the kill: 503
    assert (before.status_code, before.json()) == (200, {"total_tokens": 121355})
    assert (before_async.status_code, before_async.json()) == (200, {"total_tokens": 121355})
    _assert_disabled(blocked.status_code, blocked.json())
    _assert_disabled(after.status_code, after.json())
    _assert_disabled(after_async.status_code, after_async.json())


def test_django_fails_open_when_declared(django_client: Any) -> None:
    # Given a view failing open whose context builder raises
    # When it is called
    response = django_client.get("/open")

    # Then it serves rather than answering an error
    assert (response.status_code, response.json()) == (200, {"served": True})
