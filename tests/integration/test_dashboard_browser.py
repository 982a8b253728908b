"""The dashboard in a real browser: Debian's Chromium driven by Playwright, against a real
``rheostat serve`` on loopback and a real ``rheostat controller`` process.

An operator signs in (a wrong key is refused), kills a flag and sees it on the health page
and in ``GET /health``, watches a release plan advance without reloading, approves a stage,
rolls the plan back and finds the audit entry. Each page is photographed at 1280 px, and one at
phone width, into the test's temporary folder; ``RHEOSTAT_UPDATE_SCREENSHOTS=1`` writes them to
docs/screenshots/ instead (``docs/development.md``). The browser is never downloaded: a missing
or broken /usr/bin/chromium fails these tests (``make test`` installs it first).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from dashboard_scenario import ENV, PLAN_NAME, metric_windows, seed
from live_servers import Keys, LiveServer, prepare_database, rheostat, start_server
from playwright.sync_api import Browser, Page, expect, sync_playwright

from rheostat import service
from rheostat.clock import SystemClock

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
UPDATE_SCREENSHOTS = "RHEOSTAT_UPDATE_SCREENSHOTS"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}
WAIT_MS = 30_000
"""How long the page may take to show a change (a guard, not a measurement)."""
TICKS = 12
"""Controller passes allowed for the plan to reach its approval (each bake is 1 s)."""

expect.set_options(timeout=WAIT_MS)


@dataclass(frozen=True, slots=True, kw_only=True)
class Dashboard:
    server: LiveServer
    keys: Keys
    admin_token: str
    database_url: str


@pytest.fixture
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test` (it installs Chromium) or"
                    " `apt-get install chromium`")  # fmt: skip
    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        except Exception as error:  # noqa: BLE001  # any launch failure fails the test, loudly
            pytest.fail(f"Chromium at {CHROMIUM} did not start: {error}")
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def dashboard(tmp_path: Path) -> Iterator[Dashboard]:
    database_url = f"sqlite:///{tmp_path / 'rheostat.db'}"
    keys = prepare_database(database_url)
    store = service.open_store(database_url)
    try:
        seed(store)
    finally:
        store.close()
    admin_token = keys.admin["Authorization"].removeprefix("Bearer ")
    secret = "browser-test-session-key"  # noqa: S105  # a test server's own key
    with start_server(database_url, session_secret=secret) as server:
        yield Dashboard(
            server=server, keys=keys, admin_token=admin_token, database_url=database_url
        )


def _page(browser: Browser, dashboard: Dashboard, viewport: dict[str, int]) -> Page:
    context = browser.new_context(viewport=viewport, base_url=dashboard.server.url)  # type: ignore[arg-type]
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    return page


def _sign_in(page: Page, token: str) -> None:
    page.goto("/login")
    page.get_by_label("Admin key").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Flags", exact=True)).to_be_visible()


@dataclass(frozen=True, slots=True, kw_only=True)
class Screenshots:
    """Where this test's screenshots go; each one is checked to be a non-empty PNG."""

    folder: Path

    def shoot(self, page: Page, name: str) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{name}.png"
        page.screenshot(path=str(path))
        image = path.read_bytes()
        assert image.startswith(PNG_SIGNATURE), f"{path} is not a PNG"
        assert len(image) > len(PNG_SIGNATURE), f"{path} is empty"
        return path


@pytest.fixture
def screenshots(tmp_path: Path) -> Screenshots:
    """docs/screenshots/ with RHEOSTAT_UPDATE_SCREENSHOTS=1, else a folder of this test's own
    (so a test run never leaves the committed images modified)."""
    updating = os.environ.get(UPDATE_SCREENSHOTS) == "1"
    return Screenshots(folder=SCREENSHOTS if updating else tmp_path / "screenshots")


def _plan_state(dashboard: Dashboard) -> dict[str, object]:
    answer = httpx.get(
        f"{dashboard.server.url}/api/v1/plans/{PLAN_NAME}",
        params={"environment": ENV},
        headers=dashboard.keys.admin,
        timeout=30,
    )
    answer.raise_for_status()
    state: dict[str, object] = answer.json()
    return state


def _send_traffic(dashboard: Dashboard, percent: float) -> None:
    windows = metric_windows(percent, at=SystemClock().now())
    answer = httpx.post(
        f"{dashboard.server.url}/api/v1/client/metrics",
        json={"windows": windows},
        headers=dashboard.keys.sdk,
        timeout=30,
    )
    assert answer.status_code == 200, answer.text


def _report_from_an_sdk(dashboard: Dashboard) -> None:
    """An SDK process reports the environment's current revision (it has every change)."""
    url = f"{dashboard.server.url}/api/v1/client/heartbeat"
    body: dict[str, object] = {"instance_id": "web-1", "revision": 0, "hostname": "web-1"}
    for _ in range(2):  # the first answer names the current revision
        answer = httpx.post(url, json=body, headers=dashboard.keys.sdk, timeout=30)
        assert answer.status_code == 200, answer.text
        body["revision"] = answer.json()["revision"]


def _tick(dashboard: Dashboard) -> None:
    rheostat("controller", "run", "--once", database_url=dashboard.database_url)


def test_a_wrong_key_is_refused_and_an_admin_key_signs_in(
    browser: Browser, dashboard: Dashboard, screenshots: Screenshots
) -> None:
    # Given
    page = _page(browser, dashboard, DESKTOP)
    page.goto("/flags")
    expect(page).to_have_url(f"{dashboard.server.url}/login?next=%2Fflags")
    screenshots.shoot(page, "login")
    # When: a key that does not exist, then the sdk key
    page.get_by_label("Admin key").fill("rh_admin_not-a-real-key")
    page.get_by_role("button", name="Sign in").click()
    # Then
    expect(page.get_by_role("alert")).to_contain_text("refused")
    page.get_by_label("Admin key").fill(dashboard.keys.sdk_token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("refused")
    # When: the admin key
    _sign_in(page, dashboard.admin_token)
    # Then
    expect(page.get_by_role("row", name="checkout-v2")).to_contain_text("25%")
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["rheostat_session"]
    assert session["httpOnly"]
    assert session["sameSite"] == "Strict"


def test_kill_a_flag_and_see_it_on_health(
    browser: Browser, dashboard: Dashboard, screenshots: Screenshots
) -> None:
    # Given
    page = _page(browser, dashboard, DESKTOP)
    _sign_in(page, dashboard.admin_token)
    page.get_by_label("Search flags").fill("checkout")
    expect(page.locator("#flag-rows tr")).to_have_count(1)  # htmx search, no reload
    page.get_by_label("Search flags").fill("")
    expect(page.locator("#flag-rows tr")).to_have_count(5)
    screenshots.shoot(page, "flags")
    # When: kill, confirmed with a reason
    page.get_by_role("link", name="Kill checkout-v2").click()
    expect(page.get_by_role("heading", name="Kill checkout-v2?")).to_be_visible()
    screenshots.shoot(page, "kill-confirmation")
    page.get_by_label("Reason").fill("checkout 5xx up since 14:02")
    page.get_by_role("button", name="Kill checkout-v2").click()
    # Then
    expect(page.get_by_role("status")).to_contain_text("Flag checkout-v2 killed")
    expect(page.locator(".summary")).to_contain_text("killed")
    expect(page.locator(".version").first).to_contain_text("flag.killed")
    screenshots.shoot(page, "flag-detail")
    page.get_by_role("link", name="Health").click()
    kills = page.get_by_role("region", name="Kill switches engaged (1)")
    expect(kills.get_by_role("link", name="checkout-v2")).to_be_visible()
    screenshots.shoot(page, "health")
    page.goto("/health")
    health = json.loads(page.locator("body").inner_text())
    assert health["kill_switches"][ENV]["checkout-v2"] is True


def test_watch_a_plan_advance_approve_it_and_roll_it_back(
    browser: Browser, dashboard: Dashboard, screenshots: Screenshots
) -> None:
    # Given: the plan is started; the controller has not applied its first stage yet
    page = _page(browser, dashboard, DESKTOP)
    _sign_in(page, dashboard.admin_token)
    page.get_by_role("link", name="Release plans").click()
    expect(page.get_by_role("row", name=PLAN_NAME)).to_contain_text("running")
    page.get_by_role("link", name=PLAN_NAME).click()
    expect(page.locator("#plan-phase")).to_have_text("running")
    expect(page.locator("#plan-percent")).to_have_text("0%")
    reason = page.get_by_label("Reason for a command")
    reason.fill("error rates equal in both arms")  # kept only if the page never reloads
    # When: traffic in both arms and controller passes, until the plan waits for approval
    _run_until_approval(dashboard)
    # Then: the open page followed it, stage by stage, without a reload
    expect(page.locator("#plan-phase")).to_have_text("awaiting approval")
    expect(page.locator("#plan-percent")).to_have_text("25%")
    expect(page.locator(".timeline li").nth(1)).to_have_class("stage-done")
    expect(page.locator('.timeline li[aria-current="step"]')).to_contain_text("ramp 50%")
    expect(reason).to_have_value("error rates equal in both arms")
    expect(page.locator("svg.chart polyline")).to_have_count(2)
    screenshots.shoot(page, "plan-detail")
    # When: approve the stage
    page.get_by_role("button", name="Approve stage").click()
    # Then: approved now; the controller applies the stage on its next pass
    expect(page.get_by_role("status")).to_contain_text("Approve sent")
    expect(page.locator("#plan-approved")).to_be_visible()
    expect(page.get_by_role("button", name="Approve stage")).to_have_count(0)
    _tick(dashboard)
    expect(page.locator("#plan-percent")).to_have_text("50%")
    # When: roll back (a reason is required)
    page.get_by_label("Reason for a command").fill("p95 latency up on the search API")
    page.get_by_role("button", name="Roll back").click()
    # Then
    expect(page.locator("#plan-phase")).to_have_text("rolled back")
    expect(page.locator("#plan-percent")).to_have_text("0%")
    page.get_by_role("link", name="Release plans").click()
    screenshots.shoot(page, "plans")
    # And the audit log has the operator's rollback, with the reason
    _find_rollback_in_audit(page, screenshots)


def _run_until_approval(dashboard: Dashboard) -> None:
    for _ in range(TICKS):
        state = _plan_state(dashboard)
        if state["state"] == "awaiting_approval":
            return
        _send_traffic(dashboard, float(state["percent"]))  # type: ignore[arg-type]
        _tick(dashboard)


def _find_rollback_in_audit(page: Page, screenshots: Screenshots) -> None:
    page.get_by_role("link", name="Audit log").click()
    page.get_by_label("Subject").fill(f"plan:{PLAN_NAME}")
    page.get_by_label("Actor").fill("api-key:ops")
    page.get_by_role("button", name="Filter").click()
    entry = page.get_by_role("row").filter(has_text="p95 latency up on the search API")
    expect(entry).to_contain_text("plan.transition")
    expect(entry).to_contain_text("api-key:ops")
    screenshots.shoot(page, "audit")


def test_every_page_reads_at_desktop_and_phone_width(
    browser: Browser, dashboard: Dashboard, screenshots: Screenshots
) -> None:
    # Given
    page = _page(browser, dashboard, DESKTOP)
    _sign_in(page, dashboard.admin_token)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    # When / Then: each page at 1280 px
    page.get_by_role("link", name="Experiments").click()
    page.get_by_role("link", name="checkout-copy").click()
    expect(page.get_by_role("table")).to_contain_text("urgent")
    expect(page.locator("svg.chart circle")).to_have_count(1)
    screenshots.shoot(page, "experiment")
    page.get_by_role("link", name="Backfills").click()
    expect(page.get_by_role("row", name="orders-v2")).to_contain_text("identical")
    expect(page.get_by_role("row", name="documents-to-es")).to_contain_text("830 rows/s")
    screenshots.shoot(page, "backfills")
    page.get_by_role("link", name="Checks").click()
    expect(page.get_by_role("article", name="Check run 1")).to_contain_text("1 warn")
    screenshots.shoot(page, "checks")
    _report_from_an_sdk(dashboard)  # now: live within the 90 s window however slow the run
    page.get_by_role("link", name="SDK reach").click()
    expect(page.get_by_role("row", name="checkout-v2")).to_contain_text("1 of 1 live")
    screenshots.shoot(page, "reach")
    assert problems == []  # no script or CSP error on any page
    # When / Then: a phone
    phone = _page(browser, dashboard, PHONE)
    _sign_in(phone, dashboard.admin_token)
    phone.goto(f"/plans/{ENV}/{PLAN_NAME}")
    expect(phone.locator("#plan-phase")).to_have_text("running")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the page scrolls sideways on a phone"
    screenshots.shoot(phone, "phone-plan")


def test_a_test_run_leaves_the_screenshots_in_the_docs_alone(
    browser: Browser, dashboard: Dashboard, screenshots: Screenshots
) -> None:
    # Given the committed screenshots, and no RHEOSTAT_UPDATE_SCREENSHOTS=1
    if os.environ.get(UPDATE_SCREENSHOTS) == "1":
        pytest.skip(f"{UPDATE_SCREENSHOTS}=1 asks for docs/screenshots/ to be rewritten")
    committed = {path.name: path.stat().st_mtime_ns for path in SCREENSHOTS.glob("*.png")}

    # When a browser test takes a screenshot
    page = _page(browser, dashboard, DESKTOP)
    page.goto("/login")
    shot = screenshots.shoot(page, "login")

    # Then it is a PNG in a scratch folder, and no file under docs/screenshots/ changed
    assert shot.parent != SCREENSHOTS
    assert {path.name: path.stat().st_mtime_ns for path in SCREENSHOTS.glob("*.png")} == committed
