"""The compliance page and API: year-to-date Subpart W from the serving database, the
station profile the operator supplies, incident clocks, downloads, and the plan gate."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from pypdf import PdfReader

from hub.db.session import session_scope
from hub.portal.tenancy import Role
from hub.serving.models import HourlyAggregate
from tests.hub.portal.conftest import PortalDb
from tests.hub.portal.factories import Browser, make_member, make_org

pytestmark = pytest.mark.postgres

PROFILE = {
    "segment": "gathering_boosting",
    "gas_composition": {
        "ch4_mole_fraction": 0.78,
        "co2_mole_fraction": 0.01,
        "source": "lab analysis 2026-01",
    },
    "measurements": [],
}


@pytest.fixture(scope="module")
def station(portal_db: PortalDb) -> tuple[str, str, str]:
    """An Operations-plan org (compliance included), one station, one unit running 5 h on 1 Jan."""
    org = make_org(portal_db.owner, stations=1, compressors_per_station=1, plan="operations")
    station_id = org.station_ids[0]
    compressor_id = f"{station_id}-C01"
    jan1 = datetime(datetime.now(UTC).year, 1, 1, tzinfo=UTC)
    with session_scope(portal_db.owner, org_id=org.org_id) as session:
        session.add_all(
            HourlyAggregate(org_id=org.org_id, compressor_id=compressor_id, station_id=station_id,
                            hour_start=jan1 + timedelta(hours=h), n_readings=3600, n_running_minutes=60,
                            discharge_pressure_psi_mean=900.0)
            for h in range(5)
        )  # fmt: skip
    return org.org_id, station_id, compressor_id


def test_year_to_date_from_the_profile_and_the_hourly_aggregates(
    portal_app: FastAPI, portal_db: PortalDb, station: tuple[str, str, str]
) -> None:
    org_id, station_id, compressor_id = station
    admin = make_member(portal_db.owner, org_id, Role.admin)
    browser = Browser(portal_app).login(admin.email)
    assert (
        "Not set up: segment and gas analysis are needed"
        in browser.client.get(f"/o/{org_id}/compliance").text
    )

    profile = {
        **PROFILE,
        "measurements": [
            {"compressor_id": compressor_id, "mode": "operating", "rate": "1000 scfh"}
        ],
    }
    put = browser.api(
        "PUT", f"/api/v1/orgs/{org_id}/compliance/stations/{station_id}/profile", json=profile
    )
    assert put.status_code == 200, put.text
    result = browser.api(
        "GET", f"/api/v1/orgs/{org_id}/compliance/stations/{station_id}/subpart-w"
    ).json()
    # 1,000 scfh as found x 5 running hours = 5,000 scf; CH4 5,000 x 0.78 x 0.0192 = 74.88 kg,
    # CO2 5,000 x 0.01 x 0.0526 = 2.63 kg; CO2e 0.00263 + 28 x 0.07488 = 2.09927 t.
    (operating,) = [x for x in result["lines"] if x["detail"] == "operating mode"]
    assert (operating["gas_scf"], operating["ch4_t"], operating["co2e_t"]) == (5000.0, 0.075, 2.099)
    assert result["totals"]["complete"] is False  # hours after 1 Jan 05:00 have no record
    page = browser.client.get(f"/o/{org_id}/compliance/{station_id}").text
    assert "2.099 t CO2e" in page and "have no operating-state record" in page

    pdf = browser.client.get(f"/o/{org_id}/compliance/{station_id}/subpart-w?format=pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert "98.233(p)" in PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    csv = browser.client.get(f"/o/{org_id}/compliance/{station_id}/subpart-w?format=csv")
    assert csv.status_code == 200 and "operating mode,measured,5000.0,0.075" in csv.text


def test_incident_screening_shows_its_clocks(
    portal_app: FastAPI, portal_db: PortalDb, station: tuple[str, str, str]
) -> None:
    org_id, station_id, _ = station
    operator = make_member(portal_db.owner, org_id, Role.operator)
    browser = Browser(portal_app).login(operator.email)
    now = datetime.now(UTC)
    event = {"id": "EV-PORTAL-1", "station_id": station_id, "occurred_at": now.isoformat(),
             "confirmed_discovery_at": now.isoformat(), "gas_released": "4 MMscf", "release_intentional": False}  # fmt: skip
    screened = browser.api("POST", f"/api/v1/orgs/{org_id}/compliance/incidents", json=event)
    assert screened.status_code == 201, screened.text
    assert screened.json()["incident"] == "yes"
    page = browser.client.get(f"/o/{org_id}/compliance/{station_id}").text
    assert "telephonic notice" in page and "written report" in page
    record = browser.client.get(f"/o/{org_id}/compliance-incident.pdf?id=EV-PORTAL-1")
    assert (
        "Incident under 49 CFR 191.3: YES"
        in PdfReader(io.BytesIO(record.content)).pages[0].extract_text()
    )
    annual = browser.client.get(f"/o/{org_id}/compliance-phmsa-annual.csv?year={now.year}")
    assert "Reportable incidents (screened yes),1,hub" in annual.text


def test_roles_and_the_plan_gate(
    portal_app: FastAPI, portal_db: PortalDb, station: tuple[str, str, str]
) -> None:
    org_id, station_id, _ = station
    viewer = Browser(portal_app).login(make_member(portal_db.owner, org_id, Role.viewer).email)
    denied = viewer.api(
        "PUT", f"/api/v1/orgs/{org_id}/compliance/stations/{station_id}/profile", json=PROFILE
    )
    assert denied.status_code == 403
    pilot = make_org(portal_db.owner, stations=1, plan="pilot")
    member = Browser(portal_app).login(make_member(portal_db.owner, pilot.org_id, Role.admin).email)
    gated = member.api("GET", f"/api/v1/orgs/{pilot.org_id}/compliance")
    assert gated.status_code == 402
    assert "Pilot" in gated.text
