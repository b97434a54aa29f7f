"""A station's edge agent in the portal: what the hub's station events stored, per tenant."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from hub.ingest.events import StationEvents
from shared.messages import (
    Alarm,
    AlarmEvent,
    AlarmSeverity,
    PanelStatus,
    StationStatus,
    encode_message,
)
from tests.hub.portal.conftest import PortalDb
from tests.hub.portal.factories import Browser, make_member, make_org, make_token


def test_station_page_and_api_show_the_agents_report_and_its_alarms(
    portal_db: PortalDb, portal_app: FastAPI
) -> None:
    org = make_org(portal_db.owner)
    other = make_org(portal_db.owner)
    station, compressor = org.station_ids[0], org.compressor_ids[0]
    base = f"altaviz/v1/{org.org_id}/{station}"
    # Through the hub's own code path, on the application's (RLS-bound) role.
    events = StationEvents(portal_db.app)
    status = StationStatus(
        online=True, agent_version="0.9.1", model_id="compressor-detector", model_version="3",
        backlog_readings=1234, last_seq=98765, active_alarms=1,
        panels={compressor: PanelStatus(state="ok", polls=10)},
    )  # fmt: skip
    assert events.handle(f"{base}/status", encode_message(status))
    alarm = Alarm(
        episode_id=f"{station}.{compressor}.high_discharge_temp.1", event=AlarmEvent.RAISED,
        org_id=org.org_id, station_id=station, compressor_id=compressor,
        condition="high_discharge_temp", severity=AlarmSeverity.WARNING,
        raised_at="2026-11-26T10:00:00+00:00", value=263.0, threshold=260.0,
    )  # fmt: skip
    assert events.handle(f"{base}/alarms", encode_message(alarm))

    member = make_member(portal_db.owner, org.org_id)
    browser = Browser(portal_app).login(member.email)
    body = browser.api("GET", f"/api/v1/orgs/{org.org_id}/stations/{station}/edge").json()
    assert body["link"]["online"] and body["link"]["backlog_readings"] == 1234
    assert body["link"]["model_version"] == "3" and body["link"]["last_seq"] == 98765
    assert [(a["compressor_id"], a["condition"], a["event"]) for a in body["alarms"]] == [
        (compressor, "high_discharge_temp", "raised")
    ]
    page = browser.client.get(f"/o/{org.org_id}/stations/{station}").text
    assert page.count("<h2>Edge agent</h2>") == 1, page
    title = page[page.index("<title>") : page.index("</title>")]
    assert "Edge agent" not in title and "<" not in title[len("<title>") :]
    assert "online" in page and "high_discharge_temp" in page
    assert "1234" in page and "compressor-detector" in page

    # Another org's member (an API token: sign-ins are rate limited per client address).
    outsider = make_token(portal_db.owner, make_member(portal_db.owner, other.org_id))
    client = TestClient(portal_app)
    for path in (
        f"/api/v1/orgs/{org.org_id}/stations/{station}/edge",
        f"/api/v1/orgs/{other.org_id}/stations/{station}/edge",
    ):
        response = client.get(path, headers={"authorization": f"Bearer {outsider}"})
        assert response.status_code in (403, 404), response.text
    # A station that never reported: no link yet, no alarms.
    empty = browser.api("GET", f"/api/v1/orgs/{org.org_id}/stations/{org.station_ids[1]}/edge")
    assert empty.status_code == 200 and empty.json() == {"link": None, "alarms": []}
