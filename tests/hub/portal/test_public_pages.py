"""The public landing and pricing pages: measured figures only (each one is in
docs/benchmarks.md), prices from the billing settings, and no asset from another host."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hub.portal.app import create_app
from hub.portal.public.figures import FIGURES
from tests.hub.portal.conftest import PortalDb, portal_settings

pytestmark = pytest.mark.postgres

BENCHMARKS = Path(__file__).resolve().parents[3] / "docs" / "benchmarks.md"
EXTERNAL = re.compile(r'(?:src|href)="(?:https?:)?//', re.IGNORECASE)


def test_every_landing_figure_is_a_published_measurement() -> None:
    published = BENCHMARKS.read_text(encoding="utf-8")
    for figure in FIGURES:
        assert figure.value in published, f"{figure.value!r} is not in docs/benchmarks.md"


def test_landing_and_pricing_pages(portal_db: PortalDb) -> None:
    settings = portal_settings(
        portal_db.app_url,
        portal={"stripe": {"list_prices": {"operations": "$450 per station per month"}}},
    )
    client = TestClient(create_app(settings, engine=portal_db.app))
    landing = client.get("/", follow_redirects=False)
    assert landing.status_code == 200
    assert "Know which compressor will fail" in landing.text
    for figure in FIGURES:
        assert figure.value in landing.text
    pricing = client.get("/pricing")
    assert pricing.status_code == 200
    assert "$450 per station per month" in pricing.text  # from the settings
    assert pricing.text.count("Talk to us") == 2  # the plans without a list price
    for page in (landing, pricing, client.get("/login")):
        assert not EXTERNAL.search(page.text), EXTERNAL.search(page.text)
