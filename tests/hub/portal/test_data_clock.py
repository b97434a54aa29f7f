"""Ages against the data's clock (simulated time runs days ahead of the wall clock), alerts
whose condition cleared but that nobody resolved, and the words that explain the two."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI

from hub.db.session import session_scope
from hub.portal.app import create_app
from hub.serving.models import AlertEpisode, CompressorStatus, StationFreshness
from tests.hub.portal.conftest import PortalDb, portal_settings
from tests.hub.portal.factories import Browser, make_member, make_org
from tests.support.telemetry import HEALTHY

pytestmark = pytest.mark.postgres

#: The simulated clock of a demo: five days ahead of the wall clock.
DATA_NOW = datetime.now(UTC).replace(microsecond=0) + timedelta(days=5)


def _status(org_id: str, station_id: str, compressor_id: str, as_of: datetime) -> CompressorStatus:
    return CompressorStatus(
        org_id=org_id, compressor_id=compressor_id, station_id=station_id, as_of=as_of,
        operating_state="running", status="healthy", health_score=63, open_warning=0,
        open_critical=0, **{f"{name}_mean": value for name, value in HEALTHY.items()},
    )  # fmt: skip


@pytest.fixture(scope="module")
def data_clock_app(portal_db: PortalDb) -> FastAPI:
    settings = portal_settings(portal_db.app_url, portal={"clock": "data"})
    return create_app(settings, engine=portal_db.app)


def test_ages_count_from_the_newest_reading_and_cleared_alerts_still_need_attention(
    portal_db: PortalDb, data_clock_app: FastAPI
) -> None:
    org = make_org(portal_db.owner, stations=1, compressors_per_station=2)
    station_id = org.station_ids[0]
    fresh, quiet = org.compressor_ids
    opened = DATA_NOW - timedelta(hours=5)
    with session_scope(portal_db.owner, org_id=org.org_id) as session:
        session.add(
            StationFreshness(org_id=org.org_id, station_id=station_id, last_reading_at=DATA_NOW,
                             last_received_at=DATA_NOW + timedelta(minutes=2),
                             compressors_reporting=2, readings_last_hour=120, lag_p50_s=90.0,
                             lag_p95_s=120.0)
        )  # fmt: skip
        session.add(_status(org.org_id, station_id, fresh, DATA_NOW))
        session.add(_status(org.org_id, station_id, quiet, DATA_NOW - timedelta(hours=2)))
        session.add(
            AlertEpisode(org_id=org.org_id, episode_id=uuid.uuid4().hex, station_id=station_id,
                         compressor_id=fresh, condition="discharge_temp_rising",
                         category="equipment", signal="discharge_temp_f", status="closed",
                         severity="critical", first_seen_at=opened, opened_at=opened,
                         last_seen_at=DATA_NOW - timedelta(hours=1),
                         closed_at=DATA_NOW - timedelta(hours=1), peak_value=83.6,
                         peak_at=opened, warning_threshold=30.0, critical_threshold=60.0,
                         minutes_active=240)
        )  # fmt: skip
    member = make_member(portal_db.owner, org.org_id)
    browser = Browser(data_clock_app).login(member.email)

    station = browser.client.get(f"/o/{org.org_id}/stations/{station_id}").text
    assert not re.search(r"-\d+ (d|h|min|s) ago", station), "an age in the future"
    # The quiet unit is stale against the data's clock (its reading is 2 h older than the
    # newest), though it is five days ahead of the wall clock.
    assert station.count('class="badge stale"') == 1

    fleet = browser.client.get(f"/o/{org.org_id}/fleet").text
    attention = fleet.split("Needs attention", 1)[1]
    assert quiet in attention and "stale" in attention
    # The critical alert's condition cleared an hour ago, but nobody resolved it yet.
    assert fresh in attention and "1 alert(s) to resolve" in attention

    alerts = browser.client.get(f"/o/{org.org_id}/alerts").text
    assert 'id="state-vs-condition"' in alerts
    assert "cleared 1 h ago" in alerts

    quality = browser.client.get(f"/o/{org.org_id}/quality").text
    assert not re.search(r"-\d+(\.\d+)? s", quality), "a negative lag"
    assert "0 s ago" in quality


def test_the_wall_clock_stays_the_default(portal_db: PortalDb, portal_app: FastAPI) -> None:
    """A gateway clock days ahead must not make every other station look stale: by default
    ages are against the hub's clock, and a time ahead of it says so."""
    org = make_org(portal_db.owner, stations=1, compressors_per_station=1)
    station_id = org.station_ids[0]
    with session_scope(portal_db.owner, org_id=org.org_id) as session:
        session.add(
            StationFreshness(org_id=org.org_id, station_id=station_id, last_reading_at=DATA_NOW,
                             last_received_at=DATA_NOW, compressors_reporting=1,
                             readings_last_hour=60, lag_p50_s=1.0, lag_p95_s=2.0)
        )  # fmt: skip
    member = make_member(portal_db.owner, org.org_id)
    quality = Browser(portal_app).login(member.email).client.get(f"/o/{org.org_id}/quality")
    assert re.search(r"\b[45] d ahead", quality.text)
