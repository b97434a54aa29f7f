"""In headless Chromium (Debian's, driven by Playwright): sign in, see the map with the 4 Texas
stations, open the failing compressor, acknowledge and resolve its alert, sign out."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.portal.app import create_app
from hub.portal.tenancy import Role
from tests.hub.portal.conftest import PortalDb, portal_settings
from tests.hub.portal.factories import PASSWORD, make_member, make_org
from tests.support.server import serve
from tests.support.services import require
from tests.support.telemetry import seed_failing_compressor

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

CHROMIUM = os.environ.get("ALTAVIZ_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture
def browser() -> Iterator[object]:
    require(Path(CHROMIUM).exists() or shutil.which("chromium") is not None, "chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


def _sign_in(page, base_url: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base_url}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def _sign_out(page, base_url: str, org_id: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")
    page.goto(f"{base_url}/o/{org_id}/fleet")
    page.wait_for_url(re.compile(r"/login\?next=/o/"))


def _new_page(browser):  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page, errors


def test_sign_in_see_the_texas_map_and_sign_out(
    browser, portal_db: PortalDb, artifacts_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    org = make_org(portal_db.owner, stations=4, compressors_per_station=2)
    viewer = make_member(portal_db.owner, org.org_id, Role.viewer)
    app = create_app(portal_settings(portal_db.app_url), engine=portal_db.app)
    with serve(app) as base_url:
        page, errors = _new_page(browser)
        _sign_in(page, base_url, viewer.email)
        page.wait_for_url(f"**/o/{org.org_id}/fleet")
        expect(page.locator("#fleet-map")).to_have_attribute("data-markers", "4")
        expect(page.locator("path.station-marker")).to_have_count(4)
        page.screenshot(path=str(artifacts_dir / "fleet.png"), full_page=True)
        page.get_by_role("link", name="Karnes City").click()
        page.get_by_role("link", name=org.compressor_ids[2]).click()
        expect(page.locator("#charts")).to_have_attribute("data-ready", "true")
        page.screenshot(path=str(artifacts_dir / "compressor.png"), full_page=True)
        _sign_out(page, base_url, org.org_id)
        page.screenshot(path=str(artifacts_dir / "signed-out.png"))
        assert errors == [], errors


def test_operator_works_an_alert_in_the_browser(
    browser, portal_db: PortalDb, artifacts_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    org = make_org(portal_db.owner, stations=4, compressors_per_station=2)
    operator = make_member(portal_db.owner, org.org_id, Role.operator)
    failing = seed_failing_compressor(portal_db.owner, org)
    app = create_app(portal_settings(portal_db.app_url), engine=portal_db.app)
    with serve(app) as base_url:
        page, errors = _new_page(browser)
        _sign_in(page, base_url, operator.email)
        page.wait_for_url(f"**/o/{org.org_id}/fleet")
        expect(page.locator("#fleet-map")).to_have_attribute("data-markers", "4")
        expect(page.locator("path.station-marker")).to_have_count(4)
        expect(page.locator("path.station-marker.health-critical")).to_have_count(1)
        expect(page.locator("#count-critical")).to_have_text("1")
        page.screenshot(path=str(artifacts_dir / "1-fleet.png"), full_page=True)

        page.get_by_role("link", name=failing.compressor_id).first.click()
        page.wait_for_url(f"**/compressors/{failing.compressor_id}")
        expect(page.locator("#unit-health")).to_have_text("critical")
        expect(page.locator("#charts")).to_have_attribute("data-ready", "true")
        page.screenshot(path=str(artifacts_dir / "2-compressor.png"), full_page=True)

        page.get_by_role("link", name=failing.alert_title).click()
        page.get_by_label("Note", exact=True).fill("Crew on the way")
        page.get_by_role("button", name="Acknowledge").click()
        expect(page.locator("#alert-state")).to_have_text("acknowledged")
        page.get_by_label("Resolution note").fill("Replaced the discharge valve on throw 2")
        page.get_by_role("button", name="Resolve").click()
        expect(page.locator("#alert-state")).to_have_text("resolved")
        expect(page.locator("#alert-history")).to_contain_text("Replaced the discharge valve")
        page.screenshot(path=str(artifacts_dir / "3-resolved.png"), full_page=True)

        _sign_out(page, base_url, org.org_id)
        page.screenshot(path=str(artifacts_dir / "4-signed-out.png"))
        assert errors == [], errors
