"""Workflows in the portal: bad input is a 422 naming the field and stores nothing; rules
are versioned; contact points are https-only outside development; the delivery log
re-sends a dead letter; alerts get assigned, commented and show their timeline."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from hub.db.session import session_scope
from hub.portal.app import create_app
from hub.portal.audit.models import AuditEvent
from hub.portal.tenancy import Role
from hub.serving.models import StationFreshness
from hub.settings import HubSettings
from hub.workflows.clock import DrivenClock
from hub.workflows.jobs import build_jobs, workflow_context
from hub.workflows.models import AlertRule, NotificationChannel, OrgWorkflowSettings
from hub.workflows.scheduler import Scheduler
from tests.hub.portal.factories import Browser, OrgData, make_member, make_org, make_token
from tests.hub.workflows.conftest import T0, WorkflowDb, hub_settings, minutes, seed_episode
from tests.support.workflows import seed_workflow_objects

pytestmark = pytest.mark.postgres

RULE = {"name": "Hot discharge", "sensor": "discharge_temp_f", "comparison": ">", "value": 300.0,
        "for_min": 10, "severity": "critical"}  # fmt: skip


@pytest.fixture(scope="module")
def app(workflow_db: WorkflowDb) -> FastAPI:
    return create_app(hub_settings(workflow_db.app_url), engine=workflow_db.app)


@pytest.fixture(scope="module")
def production_app(workflow_db: WorkflowDb) -> FastAPI:
    settings = HubSettings.load(
        None, database_url=workflow_db.app_url, development=False,
        portal={"secret_key": "a-real-secret-of-enough-length-0123456789"},
    )  # fmt: skip
    return create_app(settings, engine=workflow_db.app)


def _admin(db: WorkflowDb, app: FastAPI) -> tuple[OrgData, TestClient]:
    org = make_org(db.owner, stations=1, compressors_per_station=2)
    admin = make_member(db.owner, org.org_id, Role.admin, password=None)
    client = TestClient(app, headers={"authorization": f"Bearer {make_token(db.owner, admin)}"})
    return org, client


def _refused(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    locations = [d["loc"] for d in response.json()["error"]["details"]]
    assert any(loc[-1] == field for loc in locations), locations


def _count(db: WorkflowDb, model: Any, org_id: str) -> int:
    with session_scope(db.owner) as session:
        return int(
            session.scalar(select(func.count()).select_from(model).where(model.org_id == org_id))
            or 0
        )


def test_rules_refuse_bad_input_and_keep_versions(workflow_db: WorkflowDb, app: FastAPI) -> None:
    org, client = _admin(workflow_db, app)
    base = f"/api/v1/orgs/{org.org_id}/workflows/rules"
    _refused(client.post(base, json={**RULE, "sensor": "oil_temp_f"}), "sensor")
    _refused(client.post(base, json={**RULE, "for_min": -5}), "for_min")
    _refused(
        client.post(base, json={**RULE, "scope": "station", "scope_id": "NOWHERE"}), "scope_id"
    )
    _refused(client.post(base, json={k: v for k, v in RULE.items() if k != "sensor"}), "sensor")
    assert _count(workflow_db, AlertRule, org.org_id) == 0

    created = client.post(base, json={**RULE, "scope": "station", "scope_id": org.station_ids[0]})
    assert created.status_code == 201, created.text
    rule_id = created.json()["rule_id"]
    assert created.json()["version"] == 1
    changed = client.put(f"{base}/{rule_id}", json={**RULE, "value": 320.0})
    assert (changed.status_code, changed.json()["version"]) == (200, 2)
    _refused(client.put(f"{base}/{rule_id}", json={**RULE, "for_min": 0}), "for_min")
    versions = client.get(f"{base}/{rule_id}").json()
    assert [(v["version"], v["value"]) for v in versions] == [(2, 320.0), (1, 300.0)]
    assert [r["value"] for r in client.get(base).json()] == [320.0]


def test_policy_refuses_a_negative_duration(workflow_db: WorkflowDb, app: FastAPI) -> None:
    org, client = _admin(workflow_db, app)
    url = f"/api/v1/orgs/{org.org_id}/workflows/policy"
    ladder = {"critical": [{"after_min": -15, "notify": "admins"}], "warning": []}
    _refused(client.put(url, json={"escalation": ladder}), "after_min")
    _refused(client.put(url, json={"auto_resolve_after_min": -1}), "auto_resolve_after_min")
    assert _count(workflow_db, OrgWorkflowSettings, org.org_id) == 0
    assert client.get(url).json()["version"] == 0

    ladder = {
        "critical": [{"after_min": 30, "notify": "owner"}, {"after_min": 5, "notify": "admins"}]
    }
    saved = client.put(url, json={"escalation": ladder, "auto_resolve_after_min": 20})
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert body["version"] == 1 and body["auto_resolve_after_min"] == 20
    assert [s["after_min"] for s in body["escalation"]["critical"]] == [5, 30]  # kept in order
    with session_scope(workflow_db.owner) as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.org_id == org.org_id)
        ).all()
    assert "workflow.policy_updated" in actions


def test_contact_points_are_https_only_outside_development(
    workflow_db: WorkflowDb, app: FastAPI, production_app: FastAPI
) -> None:
    org, client = _admin(workflow_db, production_app)
    url = f"/api/v1/orgs/{org.org_id}/workflows/channels"
    hook = {"name": "ops", "kind": "webhook", "url": "http://hooks.example.com/altaviz"}
    _refused(client.post(url, json=hook), "url")
    _refused(
        client.post(url, json={"name": "team", "kind": "email", "email": "not-an-address"}), "email"
    )
    _refused(client.post(url, json={**hook, "url": "ftp://example.com"}), "url")
    assert _count(workflow_db, NotificationChannel, org.org_id) == 0
    created = client.post(url, json={**hook, "url": "https://hooks.example.com/altaviz"})
    assert created.status_code == 201, created.text
    assert len(created.json()["secret"]) >= 32
    assert "secret" not in client.get(url).json()[0]

    dev_org, dev_client = _admin(workflow_db, app)  # development mode: a local receiver is fine
    allowed = dev_client.post(f"/api/v1/orgs/{dev_org.org_id}/workflows/channels", json=hook)
    assert allowed.status_code == 201, allowed.text


def test_preferences_validate_and_apply_to_me(workflow_db: WorkflowDb, app: FastAPI) -> None:
    org, client = _admin(workflow_db, app)
    url = f"/api/v1/orgs/{org.org_id}/workflows/preferences/me"
    _refused(client.put(url, json={"channels": ["sms"], "phone": "555-0100"}), "phone")
    _refused(client.put(url, json={"quiet_start": "25:00", "quiet_end": "06:00"}), "quiet_start")
    _refused(client.put(url, json={"timezone": "Mars/Olympus"}), "timezone")
    assert client.get(url).json()["channels"] == ["email"]
    saved = client.put(url, json={"channels": ["email", "sms"], "phone": "+15125550100",
                                  "quiet_start": "22:00", "quiet_end": "06:00",
                                  "timezone": "America/Chicago"})  # fmt: skip
    assert saved.status_code == 200, saved.text
    assert client.get(url).json()["phone"] == "+15125550100"


def test_delivery_log_resends_a_dead_letter(workflow_db: WorkflowDb, app: FastAPI) -> None:
    org, client = _admin(workflow_db, app)
    ids = seed_workflow_objects(workflow_db.owner, org)
    log = f"/api/v1/orgs/{org.org_id}/workflows/notifications"
    dead = client.get(log, params={"status": "dead"}).json()
    assert [n["id"] for n in dead["items"]] == [ids["notification_id"]]
    resent = client.post(f"{log}/{ids['notification_id']}/resend")
    assert (resent.status_code, resent.json()["status"], resent.json()["attempts"]) == (
        200,
        "pending",
        0,
    )
    _refused(client.post(f"{log}/{ids['notification_id']}/resend"), "status")  # not dead any more
    assert client.get(log, params={"status": "dead"}).json()["total"] == 0


def test_alert_pages_show_timeline_assign_and_comment(
    workflow_db: WorkflowDb, app: FastAPI
) -> None:
    db = workflow_db
    org = make_org(db.owner, stations=1, compressors_per_station=1)
    owner = make_member(db.owner, org.org_id, Role.owner)
    admin = make_member(db.owner, org.org_id, Role.admin, password=None)
    episode = seed_episode(db.owner, org.org_id, org.compressor_ids[0], episode_id=f"e-{org.org_id}",
                           severity="critical", opened_at=T0)  # fmt: skip
    with session_scope(db.owner, org_id=org.org_id) as session:  # silent since T0
        session.add(StationFreshness(org_id=org.org_id, station_id=org.station_ids[0],
                                     last_reading_at=T0, last_received_at=T0,
                                     compressors_reporting=1, readings_last_hour=60))  # fmt: skip
    clock = DrivenClock(minutes(15))
    scheduler = Scheduler(db.app, build_jobs(workflow_context(hub_settings(db.app_url))),
                          clock=clock, interval_s=60)  # fmt: skip
    result = scheduler.run_tick(9_000_000)
    assert (result.failed, result.partial) == ([], [])

    browser = Browser(app).login(owner.email)
    api = f"/api/v1/orgs/{org.org_id}/alerts/{episode}"
    _refused(browser.api("POST", f"{api}/assign", json={"user_id": "0" * 32}), "user_id")
    assert browser.api("POST", f"{api}/assign", json={"user_id": admin.user_id}).status_code == 200
    entries = browser.api("POST", f"{api}/comment", json={"text": "crew on the way"}).json()
    assert [e["kind"] for e in entries] == ["escalated", "assigned", "comment"]
    assert entries[0]["at"].startswith("2026-07-01T12:15:00")
    assert entries[1]["detail"]["email"] == admin.email

    queue = browser.api("GET", f"/api/v1/orgs/{org.org_id}/alerts").json()["items"]
    assert sorted((a["source"], a["condition"], a["compressor_id"]) for a in queue) == [
        ("freshness", "station_offline", None),
        ("lakehouse", "discharge_temp_high", org.compressor_ids[0]),
    ]
    assert "whole station" in browser.client.get(f"/o/{org.org_id}/alerts").text
    offline = next(a["id"] for a in queue if a["source"] == "freshness")
    acked = browser.api("POST", f"/api/v1/orgs/{org.org_id}/alerts/{offline}/acknowledge", json={})
    assert (acked.status_code, acked.json()["state"]) == (200, "acknowledged")

    detail = browser.client.get(f"/o/{org.org_id}/alerts/{episode}").text
    assert "step 1: unacknowledged 15 min, notified admins" in detail
    assert f"assigned to {admin.email}" in detail and "crew on the way" in detail
    assert admin.email in browser.client.get(f"/o/{org.org_id}/workflows/notifications").text
    overview = browser.client.get(f"/o/{org.org_id}/workflows").text
    assert "escalation" in overview and "Job runs" in overview
    assert browser.client.get(f"/o/{org.org_id}/workflows/rules").status_code == 200
    form = browser.client.post(f"/o/{org.org_id}/workflows/rules", data={
        "csrf_token": browser.csrf, "name": "Cold", "metric": "bogus_sensor", "comparison": "<",
        "value": "1", "for_min": "5", "severity": "warning", "scope": "org",
    })  # fmt: skip
    assert form.status_code == 422 and "sensor" in form.text


def test_policy_and_contact_point_forms(workflow_db: WorkflowDb, app: FastAPI) -> None:
    org = make_org(workflow_db.owner, stations=1, compressors_per_station=1)
    owner = make_member(workflow_db.owner, org.org_id, Role.owner)
    browser = Browser(app).login(owner.email)
    base = f"/o/{org.org_id}/workflows"
    form = {"csrf_token": browser.csrf, "critical_0_after_min": "-5", "critical_0_notify": "admins",
            "warning_0_after_min": "90", "warning_0_notify": "owner", "auto_resolve_after_min": "30",
            "freshness_sla_min": "20", "frozen_after_min": "60", "stale_after_h": "48",
            "retention_days": "365", "escalation_enabled": "on", "auto_resolve_enabled": "on"}  # fmt: skip
    refused = browser.client.post(f"{base}/policy", data=form)
    assert refused.status_code == 422 and "after_min" in refused.text
    assert _count(workflow_db, OrgWorkflowSettings, org.org_id) == 0
    saved = browser.client.post(f"{base}/policy", data={**form, "critical_0_after_min": "10"})
    assert saved.status_code == 200, saved.text[:500]  # followed the redirect to the overview
    policy = browser.api("GET", f"/api/v1/orgs/{org.org_id}/workflows/policy").json()
    assert policy["escalation"]["critical"] == [{"after_min": 10, "notify": "admins"}]
    assert policy["escalation"]["warning"] == [{"after_min": 90, "notify": "owner"}]
    assert (policy["freshness_enabled"], policy["auto_resolve_after_min"]) == (False, 30)

    created = browser.client.post(f"{base}/channels", data={
        "csrf_token": browser.csrf, "name": "Ops Slack", "kind": "slack",
        "target": "https://hooks.slack.example/T000/B000", "severities": ["critical"],
    })  # fmt: skip
    assert created.status_code == 201 and 'id="channel-secret"' in created.text
    assert "Ops Slack" in browser.client.get(f"{base}/notifications").text
    assert 'id="channel-secret"' not in browser.client.get(f"{base}/notifications").text
