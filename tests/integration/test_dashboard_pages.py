"""The dashboard over a real store: sign-in, every page, the actions and their audit entries.

Driven through Starlette's TestClient (the browser tests in tests/e2e drive the same pages in
Chromium); SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from rheostat import service
from rheostat.api import create_app
from rheostat.clock import FixedClock
from rheostat.rollout import GateMode, HoldbackGate, Plan, RampStage
from rheostat.rollout.state import Command, CommandKind
from rheostat.service import Change, SqlStore, transact
from rheostat.settings import Settings
from rheostat.web.sessions import SESSION_COOKIE

ENV = "production"
PLAN = Plan(
    name="search-ramp",
    flag="hybrid_search",
    environment=ENV,
    stages=(
        RampStage(percent=5, bake=timedelta(minutes=10), holdback=True),
        RampStage(percent=50, approval=True),
        RampStage(percent=100),
    ),
    gates=(HoldbackGate(name="errors", metric="http_errors", mode=GateMode.ROLLBACK),),
)
BOOL_FLAG = {"variants": {"on": True, "off": False}, "default": "off", "description": "hybrid"}


@pytest.fixture
def seeded(store: SqlStore) -> dict[str, str]:
    setup = Change(actor="setup")
    transact(store, service.create_environment, ENV, change=setup)
    transact(store, service.create_flag, ENV, "hybrid_search", BOOL_FLAG, change=setup)
    transact(store, service.create_flag, ENV, "checkout", BOOL_FLAG, change=setup)
    transact(store, service.set_rollout_percentage, ENV, "checkout", 25, change=setup)
    admin = transact(store, service.create_api_key, name="ops", scope="admin", change=setup)
    sdk = transact(
        store, service.create_api_key, name="app", scope="sdk", environment=ENV, change=setup
    )
    transact(store, service.create_plan, PLAN, change=Change(actor="alice"))
    transact(
        store, service.command_plan, ENV, PLAN.name, Command(kind=CommandKind.START, actor="alice")
    )
    return {"admin": admin.token, "sdk": sdk.token}


@pytest.fixture
def client(store_url: str, clock: FixedClock, seeded: dict[str, str]) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=store_url, session_secret="s" * 32), clock=clock)
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as test_client:
        yield test_client


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, "no CSRF field in the page"
    return found.group(1)


def _sign_in(client: TestClient, token: str) -> None:
    form = client.get("/login")
    answer = client.post(
        "/login", data={"csrf": _csrf(form.text), "api_key": token, "next": "/flags"}
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/flags"


def test_pages_need_a_session(client: TestClient) -> None:
    # When
    answer = client.get("/flags")
    # Then
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=")


def test_a_wrong_key_is_refused(client: TestClient, seeded: dict[str, str]) -> None:
    # Given
    form = client.get("/login")
    # When
    wrong = client.post("/login", data={"csrf": _csrf(form.text), "api_key": "rh_admin_nope"})
    sdk = client.post("/login", data={"csrf": _csrf(wrong.text), "api_key": seeded["sdk"]})
    # Then
    assert wrong.status_code == 401
    assert "refused" in wrong.text
    assert sdk.status_code == 401
    assert SESSION_COOKIE not in client.cookies


def test_login_without_its_csrf_token_is_refused(
    client: TestClient, seeded: dict[str, str]
) -> None:
    # When
    answer = client.post("/login", data={"csrf": "forged", "api_key": seeded["admin"]})
    # Then
    assert answer.status_code == 403
    assert SESSION_COOKIE not in client.cookies


def test_the_session_cookie_is_http_only_and_same_site_strict(
    client: TestClient, seeded: dict[str, str]
) -> None:
    # Given
    form = client.get("/login")
    # When
    answer = client.post("/login", data={"csrf": _csrf(form.text), "api_key": seeded["admin"]})
    # Then
    cookie = next(
        value for name, value in answer.headers.multi_items()
        if name == "set-cookie" and value.startswith(SESSION_COOKIE)
    )  # fmt: skip
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie


PAGES = (
    "/flags",
    "/flags?q=check",
    "/flags/rows?q=hybrid",
    f"/flags/{ENV}/checkout",
    f"/flags/{ENV}/checkout/kill",
    "/plans",
    "/plans/rows",
    f"/plans/{ENV}/search-ramp",
    f"/plans/{ENV}/search-ramp/live",
    "/experiments",
    "/backfills",
    "/checks",
    "/audit",
    "/audit?actor=alice&action=plan",
    "/reach",
    "/status",
)


def test_every_page_renders(client: TestClient, seeded: dict[str, str]) -> None:
    # Given
    _sign_in(client, seeded["admin"])
    for path in PAGES:
        # When
        answer = client.get(path)
        # Then
        assert answer.status_code == 200, (path, answer.text)
        assert "default-src 'self'" in answer.headers["content-security-policy"]
        assert "<script>" not in answer.text  # no inline script: the CSP would block it


def test_an_unknown_flag_is_a_page_that_says_so(client: TestClient, seeded: dict[str, str]) -> None:
    # Given
    _sign_in(client, seeded["admin"])
    # When
    answer = client.get(f"/flags/{ENV}/no-such-flag")
    # Then
    assert answer.status_code == 404
    assert "no-such-flag" in answer.text


def test_killing_a_flag_needs_a_reason_and_is_audited(
    client: TestClient, seeded: dict[str, str]
) -> None:
    # Given
    _sign_in(client, seeded["admin"])
    csrf = _csrf(client.get(f"/flags/{ENV}/checkout/kill").text)
    # When
    no_reason = client.post(f"/flags/{ENV}/checkout/kill", data={"csrf": csrf, "reason": " "})
    killed = client.post(f"/flags/{ENV}/checkout/kill", data={"csrf": csrf, "reason": "errors up"})
    # Then
    assert no_reason.status_code == 422
    assert killed.status_code == 303
    health = client.get("/status").text
    assert "Kill switches engaged (1)" in health
    audit = client.get("/audit?action=flag.killed").text
    assert "api-key:ops" in audit
    assert "errors up" in audit


def test_a_form_without_the_csrf_token_changes_nothing(
    client: TestClient, seeded: dict[str, str]
) -> None:
    # Given
    _sign_in(client, seeded["admin"])
    # When
    answer = client.post(f"/flags/{ENV}/checkout/kill", data={"reason": "no token"})
    # Then
    assert answer.status_code == 403
    assert "Kill switches engaged (0)" in client.get("/status").text


def test_restore_writes_a_new_version(client: TestClient, seeded: dict[str, str]) -> None:
    # Given: checkout at version 2 (25 %)
    _sign_in(client, seeded["admin"])
    page = client.get(f"/flags/{ENV}/checkout").text
    assert "Restore v1" in page
    # When
    answer = client.post(
        f"/flags/{ENV}/checkout/restore",
        data={"csrf": _csrf(page), "version": "1", "expected_version": "2", "reason": "undo"},
    )
    # Then
    assert answer.status_code == 303
    assert "Restored version 1 as version 3" in client.get(answer.headers["location"]).text


def test_plan_commands_from_the_page(client: TestClient, seeded: dict[str, str]) -> None:
    # Given: the plan bakes its first stage
    _sign_in(client, seeded["admin"])
    page = client.get(f"/plans/{ENV}/search-ramp").text
    csrf = _csrf(page)
    assert 'value="pause"' in page
    # When
    paused = client.post(
        f"/plans/{ENV}/search-ramp/command", data={"csrf": csrf, "command": "pause"}
    )
    unexplained = client.post(
        f"/plans/{ENV}/search-ramp/command", data={"csrf": csrf, "command": "rollback"}
    )
    rolled = client.post(
        f"/plans/{ENV}/search-ramp/command",
        data={"csrf": csrf, "command": "rollback", "reason": "latency"},
    )
    # Then
    assert paused.status_code == 303
    assert unexplained.status_code == 422
    assert rolled.status_code == 303
    assert "rolled back" in client.get(f"/plans/{ENV}/search-ramp").text
    assert "latency" in client.get("/audit?subject=plan:search-ramp").text


def test_signing_out_ends_the_session(client: TestClient, seeded: dict[str, str]) -> None:
    # Given
    _sign_in(client, seeded["admin"])
    csrf = _csrf(client.get("/flags").text)
    # When
    client.post("/logout", data={"csrf": csrf})
    # Then
    assert client.get("/flags").status_code == 303
