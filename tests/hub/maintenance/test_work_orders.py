"""Work orders through the API as an operator: from an alert, assign, attach, close; the
failure labels training reads; another org's compressor; roles; read-only tokens."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hub.models_lifecycle.lake_data import maintenance_failures
from hub.portal.tenancy import Role
from tests.hub.portal.conftest import PortalDb
from tests.hub.portal.factories import Browser, make_member, make_org, make_token
from tests.support.telemetry import seed_alert

pytestmark = pytest.mark.postgres


def test_a_work_order_from_an_alert_becomes_a_failure_label(
    app: FastAPI, portal_db: PortalDb, data_dir: Path
) -> None:
    org = make_org(portal_db.owner, stations=1)
    alert_id = seed_alert(portal_db.owner, org)
    operator = make_member(portal_db.owner, org.org_id, Role.operator)
    browser = Browser(app).login(operator.email)
    base = f"/api/v1/orgs/{org.org_id}/work-orders"

    created = browser.api(
        "POST", base, json={"type": "failure", "episode_id": alert_id, "component": "valves"}
    )
    assert created.status_code == 201, created.text
    order = created.json()
    assert order["compressor_id"] == org.compressor_ids[0]
    assert order["episode_id"] == alert_id and order["status"] == "open"
    assert order["title"] == "Failure: high discharge temp"
    assert order["created_by"] == operator.email

    assigned = browser.api("POST", f"{base}/{order['id']}/assign", json={"assigned_to": "Crew 7"})
    assert assigned.json()["status"] == "assigned" and assigned.json()["assigned_to"] == "Crew 7"

    upload = browser.api(
        "POST", f"{base}/{order['id']}/attachments",
        files={"file": ("../valve photo.jpg", b"\xff\xd8jpeg bytes", "image/jpeg")},
    )  # fmt: skip
    assert upload.status_code == 201, upload.text
    attachment = upload.json()
    assert attachment["filename"] == "valve photo.jpg" and attachment["size_bytes"] == 12
    stored = list((data_dir / "orgs" / org.org_id / "maintenance" / order["id"]).iterdir())
    assert [p.read_bytes() for p in stored] == [b"\xff\xd8jpeg bytes"]
    download = browser.api("GET", f"{base}/{order['id']}/attachments/{attachment['attachment_id']}")
    assert download.content == b"\xff\xd8jpeg bytes"
    assert download.headers["content-disposition"].startswith("attachment")

    closed = browser.api(
        "POST", f"{base}/{order['id']}/close",
        json={"downtime_hours": 6.5, "parts": ["discharge valve", "valve gasket"], "notes": "done"},
    )  # fmt: skip
    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert body["status"] == "closed" and body["downtime_hours"] == 6.5
    assert (
        body["parts"] == ["discharge valve", "valve gasket"] and body["closed_by"] == operator.email
    )
    again = browser.api("POST", f"{base}/{order['id']}/close", json={})
    assert again.status_code == 409

    # Retraining's label reader sees the failure (hub/models_lifecycle/lake_data.py).
    labels = maintenance_failures(portal_db.app, org_id=org.org_id, lookback_days=7)
    faults = labels.equipment_faults
    assert faults["fault_id"].tolist() == [order["id"]]
    assert faults["compressor_id"].tolist() == [org.compressor_ids[0]]
    assert faults["fault_mode"].tolist() == ["valves"]
    assert (faults["failure"] - faults["onset"]).dt.days.tolist() == [7]

    listed = browser.api("GET", f"{base}?compressor_id={org.compressor_ids[0]}&status=closed")
    assert [o["id"] for o in listed.json()["items"]] == [order["id"]]


def test_another_orgs_compressor_roles_and_read_only_tokens(
    app: FastAPI, portal_db: PortalDb
) -> None:
    mine, theirs = make_org(portal_db.owner, stations=1), make_org(portal_db.owner, stations=1)
    operator = make_member(portal_db.owner, mine.org_id, Role.operator)
    viewer = make_member(portal_db.owner, mine.org_id, Role.viewer)
    base = f"/api/v1/orgs/{mine.org_id}/work-orders"
    browser = Browser(app).login(operator.email)

    foreign = browser.api(
        "POST", base, json={"type": "repair", "compressor_id": theirs.compressor_ids[0]}
    )
    assert foreign.status_code == 404
    assert foreign.json()["error"]["code"] == "not_found"
    bad_type = browser.api(
        "POST", base, json={"type": "oil_change", "compressor_id": mine.compressor_ids[0]}
    )
    assert bad_type.status_code == 422
    backwards = browser.api(
        "POST", base,
        json={"type": "repair", "compressor_id": mine.compressor_ids[0],
              "started_at": "2026-03-02T00:00:00Z", "ended_at": "2026-03-01T00:00:00Z"},
    )  # fmt: skip
    assert backwards.status_code == 422 and backwards.json()["error"]["details"][0]["loc"] == [
        "ended_at"
    ]
    assert browser.api("GET", base).json()["total"] == 0  # nothing was written

    as_viewer = Browser(app).login(viewer.email)
    refused = as_viewer.api(
        "POST", base, json={"type": "repair", "compressor_id": mine.compressor_ids[0]}
    )
    assert refused.status_code == 403
    assert as_viewer.api("GET", base).status_code == 200

    owner = make_member(portal_db.owner, mine.org_id, Role.owner)
    owner_browser = Browser(app).login(owner.email)
    issued = owner_browser.api(
        "POST", f"/api/v1/orgs/{mine.org_id}/tokens", json={"name": "bi", "scope": "read"}
    )
    assert issued.status_code == 201 and issued.json()["scope"] == "read"
    client = TestClient(app)
    read_only = {"authorization": f"Bearer {issued.json()['token']}"}
    assert client.get(base, headers=read_only).status_code == 200
    write = client.post(
        base, headers=read_only, json={"type": "repair", "compressor_id": mine.compressor_ids[0]}
    )
    assert write.status_code == 403 and "read-only" in write.json()["error"]["message"]
    full = {"authorization": f"Bearer {make_token(portal_db.owner, owner)}"}
    made = client.post(
        base, headers=full, json={"type": "inspection", "compressor_id": mine.compressor_ids[0]}
    )
    assert made.status_code == 201
