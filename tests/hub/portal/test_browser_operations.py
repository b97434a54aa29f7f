"""In headless Chromium (Debian's, driven by Playwright), with axe-core checking each page:
a work order from an alert, the performance pages, an export, theme switching, pricing."""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from hub.db.base import utc_now
from hub.portal.app import STATIC_DIR, create_app
from hub.portal.tenancy import Role
from tests.hub.portal.conftest import PortalDb, portal_settings
from tests.hub.portal.factories import Member, OrgData, make_member, make_org
from tests.hub.portal.test_browser import CHROMIUM, CHROMIUM_ARGS, _sign_in
from tests.support.server import serve
from tests.support.services import require
from tests.support.telemetry import FailingUnit, seed_failing_compressor

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

AXE = STATIC_DIR / "vendor" / "axe-core" / "axe.min.js"
AXE_RUN = """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
  .filter(v => v.impact === 'serious' || v.impact === 'critical')
  .map(v => `${v.id} (${v.impact}): ${v.help} -> ${v.nodes.map(n => n.target.join(' ')).join(', ')}`)"""


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    require(Path(CHROMIUM).exists() or shutil.which("chromium") is not None, "chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Site:
    base_url: str
    org: OrgData
    failing: FailingUnit
    operator: Member


@pytest.fixture(scope="module")
def site(portal_db: PortalDb) -> Iterator[Site]:
    org = make_org(portal_db.owner, stations=2, compressors_per_station=2, plan="operations")
    failing = seed_failing_compressor(portal_db.owner, org)
    operator = make_member(portal_db.owner, org.org_id, Role.operator)
    settings = portal_settings(
        portal_db.app_url,
        portal={"stripe": {"list_prices": {"operations": "$450 per station per month"}}},
    )
    with serve(create_app(settings, engine=portal_db.app)) as base_url:
        yield Site(base_url, org, failing, operator)


def _page(chromium, **options):  # type: ignore[no-untyped-def]
    # bypass_csp: axe is injected as an inline script, which the portal's CSP forbids.
    context = chromium.new_context(bypass_csp=True, accept_downloads=True, **options)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return context, page, errors


def _accessible(page, what: str) -> None:  # type: ignore[no-untyped-def]
    page.add_script_tag(path=str(AXE))
    serious = page.evaluate(AXE_RUN)
    assert serious == [], f"{what}: {serious}"


def test_work_order_from_an_alert_and_performance(
    chromium, site: Site, artifacts_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    context, page, errors = _page(chromium, viewport={"width": 1280, "height": 900})
    _sign_in(page, site.base_url, site.operator.email)
    page.wait_for_url(f"**/o/{site.org.org_id}/fleet")
    page.goto(f"{site.base_url}/o/{site.org.org_id}/alerts/{site.failing.alert_id}")
    _accessible(page, "alert page")
    page.get_by_role("link", name="Create work order").click()
    page.get_by_label("Type").select_option("repair")
    page.get_by_label("Component").select_option("valves")
    page.get_by_label("Assign to").fill("Crew 7")
    page.get_by_label("Notes").fill("Discharge valve on throw 2 running hot")
    _accessible(page, "new work order form")
    page.get_by_role("button", name="Create work order").click()
    expect(page.locator("#work-order-status")).to_have_text("assigned")
    expect(page.locator("#work-order-alert")).to_have_text(site.failing.alert_id)
    expect(page.locator("#work-order-type")).to_have_text("repair")
    page.get_by_label("Downtime (hours)").fill("6")
    page.get_by_role("button", name="Close work order").click()
    expect(page.locator("#work-order-status")).to_have_text("closed")
    _accessible(page, "work order page")
    page.screenshot(path=str(artifacts_dir / "work-order.png"), full_page=True)

    page.goto(f"{site.base_url}/o/{site.org.org_id}/compressors/{site.failing.compressor_id}")
    expect(page.locator("#performance")).to_have_attribute("data-ready", "true")
    expect(page.locator("#performance figure.chart")).to_have_count(5)
    expect(page.locator("#performance .loading")).to_have_count(0)
    _accessible(page, "compressor page")
    page.get_by_role("link", name="Fleet comparison").click()
    first = page.locator("#fleet-performance tbody tr").first
    expect(first).to_contain_text(site.failing.compressor_id)
    _accessible(page, "fleet performance page")
    page.screenshot(path=str(artifacts_dir / "performance.png"), full_page=True)
    context.close()
    assert errors == [], errors


def test_export_downloads_and_says_when_there_is_nothing(chromium, site: Site) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    context, page, errors = _page(chromium, viewport={"width": 1280, "height": 900})
    _sign_in(page, site.base_url, site.operator.email)
    page.wait_for_url(f"**/o/{site.org.org_id}/fleet")
    page.get_by_role("link", name="Exports").click()
    _accessible(page, "exports page")
    page.get_by_label("Data").select_option("hourly")
    page.get_by_label("Compressor").select_option(site.failing.compressor_id)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 48 and rows[0]["compressor_id"] == site.failing.compressor_id
    assert download.value.suggested_filename.startswith(f"hourly_{site.failing.compressor_id}_")
    month_ago = utc_now() - timedelta(days=30)  # inside the plan's history, before the data
    page.get_by_label("From (UTC)").fill(f"{month_ago:%Y-%m-%dT%H:%M}")
    page.get_by_label("To (UTC)").fill(f"{month_ago + timedelta(days=1):%Y-%m-%dT%H:%M}")
    page.get_by_role("button", name="Download").click()
    expect(page.locator("#export-status")).to_have_text("Nothing to export in this range.")
    page.get_by_label("From (UTC)").fill("2020-01-01T00:00")  # older than Operations shows
    page.get_by_label("To (UTC)").fill("2020-01-02T00:00")
    page.get_by_role("button", name="Download").click()
    expect(page.locator("#export-status")).to_contain_text("plan shows 730 days of history")
    context.close()
    # The HEAD probe's 404 and 402 (and the GET that reads the 402's message) are logged.
    assert errors == [e for e in errors if "404" in e or "402" in e], errors


def test_theme_follows_the_system_and_the_toggle_and_pricing_reads_settings(
    chromium, site: Site
) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    context, page, errors = _page(
        chromium, viewport={"width": 390, "height": 844}, color_scheme="dark"
    )
    page.goto(f"{site.base_url}/")
    background = "() => getComputedStyle(document.body).backgroundColor"
    assert page.evaluate(background) == "rgb(15, 20, 25)"  # dark, from the system setting
    _accessible(page, "landing page (dark, phone)")
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    toggle = page.get_by_role("button", name="Dark theme")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "false")
    assert page.evaluate(background) == "rgb(246, 247, 249)"
    page.get_by_role("link", name="Pricing").click()
    assert page.evaluate(background) == "rgb(246, 247, 249)"  # the choice is remembered
    expect(page.locator("#plans")).to_contain_text("$450 per station per month")
    _accessible(page, "pricing page (light, phone)")
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    page.keyboard.press("Tab")  # keyboard: the skip link comes first
    expect(page.locator(":focus")).to_have_text("Skip to content")
    context.close()
    assert errors == [], errors
