"""CMMS import (all rows or none, a report naming rows and fields) and the alert tuning
report fed by technicians' verdicts."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi import FastAPI

from hub.portal.tenancy import Role
from tests.hub.portal.conftest import PortalDb
from tests.hub.portal.factories import Browser, make_member, make_org
from tests.support.telemetry import seed_alert

pytestmark = pytest.mark.postgres

HEADER = "external_id,compressor_id,type,started_at,ended_at,component,parts,downtime_hours,notes"


def _csv(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def test_cmms_import_is_all_or_nothing_with_a_report_per_row(
    app: FastAPI, portal_db: PortalDb
) -> None:
    org, other = make_org(portal_db.owner, stations=1), make_org(portal_db.owner, stations=1)
    operator = make_member(portal_db.owner, org.org_id, Role.operator)
    browser = Browser(app).login(operator.email)
    url = f"/api/v1/orgs/{org.org_id}/work-orders/import"
    unit = org.compressor_ids[0]

    def send(content: bytes):  # type: ignore[no-untyped-def]
        return browser.api("POST", url, files={"file": ("orders.csv", content, "text/csv")})

    good = [
        f"WO-1,{unit},failure,2026-03-01T06:00:00Z,2026-03-01T18:00:00Z,rod_packing,packing set;gaskets,12,leak",
        f"WO-2,{unit},inspection,2026-03-05T08:00:00+00:00,,valves,,,",
    ]
    bad = send(_csv(
        *good,
        f"WO-3,{other.compressor_ids[0]},repair,2026-03-06T08:00:00Z,,,,,",  # another org's unit
        f"WO-4,{unit},oil change,2026-03-07T08:00:00Z,,,,,",
        f"WO-5,{unit},repair,2026-03-07 08:00,,,,4 h,",  # no zone; downtime with a unit
        f"WO-1,{unit},repair,2026-03-08T08:00:00Z,2026-03-07T08:00:00Z,,,,",  # dup id, ends early
    ))  # fmt: skip
    assert bad.status_code == 422, bad.text
    error = bad.json()["error"]
    assert error["code"] == "import_rejected" and "nothing was imported" in error["message"]
    problems = {(d["loc"][0], d["loc"][1]) for d in error["details"]}
    assert problems == {
        ("row 3", "compressor_id"), ("row 4", "type"), ("row 5", "started_at"),
        ("row 5", "downtime_hours"), ("row 6", "ended_at"), ("row 6", "external_id"),
    }  # fmt: skip
    orders = f"/api/v1/orgs/{org.org_id}/work-orders"
    assert browser.api("GET", orders).json()["total"] == 0  # nothing half-imported

    wrong_units = send(_csv(f"WO-1,{unit},failure,2026-03-01T06:00:00Z,90",
                            header="external_id,compressor_id,type,started_at,downtime_min"))  # fmt: skip
    assert wrong_units.status_code == 422
    assert wrong_units.json()["error"]["details"] == [
        {"loc": ["header", "downtime_min"], "message": "use downtime_hours (hours, not minutes)"}
    ]

    imported = send(_csv(*good))
    assert imported.status_code == 200, imported.text
    assert imported.json() == {"imported": 2, "already_present": 0, "rejected": []}
    again = send(_csv(*good))
    assert again.json() == {"imported": 0, "already_present": 2, "rejected": []}
    rows = browser.api("GET", orders).json()["items"]
    failure = next(r for r in rows if r["type"] == "failure")
    assert failure["source"] == "cmms" and failure["external_id"] == "WO-1"
    assert failure["parts"] == ["packing set", "gaskets"] and failure["downtime_hours"] == 12.0


def _hours_after(browser: Browser, org, alert_id: str, hours: float) -> str:  # type: ignore[no-untyped-def]
    opened = browser.api("GET", f"/api/v1/orgs/{org.org_id}/alerts/{alert_id}").json()["opened_at"]
    return (datetime.fromisoformat(opened) + timedelta(hours=hours)).isoformat()


def test_verdicts_on_episodes_feed_the_tuning_report(app: FastAPI, portal_db: PortalDb) -> None:
    org = make_org(portal_db.owner, stations=1)
    operator = make_member(portal_db.owner, org.org_id, Role.operator)
    browser = Browser(app).login(operator.email)
    alerts = [seed_alert(portal_db.owner, org) for _ in range(5)]
    for alert_id, verdict in zip(alerts[:3], ["dismissed", "dismissed", "confirmed"], strict=True):
        reviewed = browser.api(
            "POST", f"/api/v1/orgs/{org.org_id}/alerts/{alert_id}/review", json={"verdict": verdict}
        )
        assert reviewed.status_code == 200 and reviewed.json()["reviewed_by"] == operator.email
    # A repair work order from an unreviewed episode counts as confirmed.
    browser.api(
        "POST",
        f"/api/v1/orgs/{org.org_id}/work-orders",
        json={
            "type": "repair",
            "episode_id": alerts[3],
            "started_at": _hours_after(browser, org, alerts[3], 6),
        },
    )
    report = browser.api("GET", f"/api/v1/orgs/{org.org_id}/alert-tuning").json()
    [row] = report["conditions"]
    assert (row["condition"], row["episodes"], row["confirmed"], row["dismissed"], row["unreviewed"]) == (
        "high_discharge_temp", 5, 2, 2, 1,
    )  # fmt: skip
    assert row["precision"] == 0.5
    # The repair (a failure label, hub/maintenance/labels.py) started 6 h after its episode opened.
    assert row["median_lead_h_to_failure"] == pytest.approx(6.0)
    assert row["suggestion"].startswith("Some false alarms")
    page = browser.client.get(f"/o/{org.org_id}/alert-tuning")
    assert "high discharge temp" in page.text and "50 %" in page.text


def test_the_import_page_shows_the_rejected_rows(app: FastAPI, portal_db: PortalDb) -> None:
    org = make_org(portal_db.owner, stations=1)
    operator = make_member(portal_db.owner, org.org_id, Role.operator)
    browser = Browser(app).login(operator.email)
    content = _csv(f"WO-9,{org.compressor_ids[0]},failure,yesterday,,,,,")
    page = browser.client.post(
        f"/o/{org.org_id}/work-orders/import", data={"csrf_token": browser.csrf},
        files={"file": ("orders.csv", content, "text/csv")},
    )  # fmt: skip
    assert page.status_code == 422
    assert (
        "nothing was imported" in page.text and "row 1" in page.text and "started_at" in page.text
    )
    good = _csv(f"WO-9,{org.compressor_ids[0]},failure,2026-03-01T00:00:00Z,,valves,,,")
    page = browser.client.post(
        f"/o/{org.org_id}/work-orders/import", data={"csrf_token": browser.csrf},
        files={"file": ("orders.csv", good, "text/csv")},
    )  # fmt: skip
    assert page.status_code == 200 and "Imported 1 work order(s)" in page.text
