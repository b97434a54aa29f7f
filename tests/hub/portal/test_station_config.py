"""Station configuration from the portal to a real edge agent and back, over real mosquitto and
PostgreSQL: an admin edits, previews the diff and pushes; the station applies it; the portal
shows desired vs reported. A viewer cannot push; a bad map is refused before anything is signed."""

from __future__ import annotations

import html
from pathlib import Path

import pytest
import yaml

from edge_agent.agent import Agent
from edge_agent.settings import EdgeSettings
from hub.portal.app import create_app
from hub.portal.tenancy import Role
from hub.stationconfig.link import ConfigReportsWorker
from shared.bundle import generate_signing_key, private_key_pem, public_key_pem
from shared.mqtt import MqttSettings
from shared.register_map import find_register_map
from tests.hub.portal.conftest import PortalDb, portal_settings
from tests.hub.portal.factories import Browser, make_member, make_org
from tests.support.services import Mosquitto
from tests.support.sources import FiniteSource
from tests.support.stack import AgentThread, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.mosquitto]

SECTIONS = {
    "thresholds": {"rules": [{"id": "hot_discharge", "metric": "discharge_temp_f_mean",
                              "above": 290.0}]},
    "uplink": {"batch_max_rows": 500},
}  # fmt: skip


def test_admin_pushes_a_configuration_the_station_applies_and_reports(
    tmp_path: Path, portal_db: PortalDb, mosquitto: Mosquitto
) -> None:
    key = generate_signing_key()
    settings = portal_settings(
        portal_db.app_url,
        mqtt=MqttSettings(port=mosquitto.port),
        models={"signing_key_pem": private_key_pem(key).decode()},
        ingest={"client_id": "stationconfig-test"},
    )
    app = create_app(settings, engine=portal_db.app)
    org = make_org(portal_db.owner, stations=1)
    station = org.station_ids[0]
    reports = ConfigReportsWorker(settings, portal_db.app)
    reports.start()
    pinned = tmp_path / "hub.pem"
    pinned.write_bytes(public_key_pem(key))
    (tmp_path / "edge.yaml").write_text("{}")
    agent = Agent(
        EdgeSettings.load(
            tmp_path / "edge.yaml", org_id=org.org_id, station_id=station,
            mqtt={"port": mosquitto.port, "reconnect_min_s": 0.2, "reconnect_max_s": 1},
            buffer={"path": tmp_path / "buffer.duckdb"}, scoring={"thresholds_file": None},
            http={"enabled": False},
            remote_config={"public_key_file": pinned, "dir": tmp_path / "config"},
        ),
        source=FiniteSource(total=10_000_000, per_poll=3, poll_interval_s=0.1),
    )  # fmt: skip
    admin = Browser(app).login(make_member(portal_db.owner, org.org_id, Role.admin).email)
    base = f"/o/{org.org_id}/station-config"
    try:
        with AgentThread(agent):
            wait_until(lambda: agent.uplink.connected, timeout=10, what="the agent's link")
            overview = admin.client.get(base)
            assert overview.status_code == 200 and station in overview.text
            assert "file configuration" in overview.text

            text = yaml.safe_dump(SECTIONS)
            form = {"text": text, "csrf_token": admin.csrf}
            preview = admin.client.post(f"{base}/{station}/preview", data=form)
            assert preview.status_code == 200
            shown = html.unescape(preview.text)
            assert "+uplink:" in shown and "+  batch_max_rows: 500" in shown
            assert "Sign and push as version 1" in shown

            pushed = admin.client.post(f"{base}/{station}/push", data=form, follow_redirects=False)
            assert pushed.status_code == 303, pushed.text[:300]
            wait_until(lambda: agent.config.running.version == 1, timeout=15, what="applied")
            assert agent.settings.uplink.batch_max_rows == 500
            assert [r.id for r in agent.scorer.thresholds.rules] == ["hot_discharge"]

            def reported() -> str:
                return admin.client.get(f"{base}/{station}").text

            wait_until(lambda: "applied" in reported(), timeout=15, what="the report in the portal")
            page = reported()
            assert "version 1, pushed" in page and "Station runs</th><td>version 1" in page
            assert "not in sync" not in admin.client.get(base).text

            # An overlapping register map: refused by the hub before anything is signed.
            bad = find_register_map("standard-scaled").model_dump(mode="json")
            bad["points"][1]["address"] = bad["points"][0]["address"]
            form["text"] = yaml.safe_dump({"register_maps": {"standard-scaled": bad}})
            refused = admin.client.post(f"{base}/{station}/push", data=form)
            assert refused.status_code == 400 and "already used" in html.unescape(refused.text)
            assert agent.config.running.version == 1

            # A viewer sees desired vs reported, and cannot push.
            viewer = Browser(app).login(make_member(portal_db.owner, org.org_id).email)
            assert "Sign and push" not in viewer.client.get(f"{base}/{station}").text
            denied = viewer.client.post(
                f"{base}/{station}/push", data={"text": text, "csrf_token": viewer.csrf}
            )
            assert denied.status_code == 403
    finally:
        reports.stop()
