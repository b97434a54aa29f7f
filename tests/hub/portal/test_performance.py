"""Performance from serving data: a compressor's series are the shared formulas applied to its
bucket means, and the fleet comparison puts the unit that drifted from its baseline first."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from hub.portal.tenancy import Role
from shared import performance as perf
from tests.hub.portal.conftest import PortalDb
from tests.hub.portal.factories import Browser, make_member, make_org
from tests.support.telemetry import HEALTHY, seed_failing_compressor

pytestmark = pytest.mark.postgres


def test_performance_series_and_fleet_ranking(portal_app: FastAPI, portal_db: PortalDb) -> None:
    org = make_org(portal_db.owner, stations=2, compressors_per_station=2)
    failing = seed_failing_compressor(portal_db.owner, org)
    viewer = make_member(portal_db.owner, org.org_id, Role.viewer)
    browser = Browser(portal_app).login(viewer.email)
    base = f"/api/v1/orgs/{org.org_id}"

    series = browser.api("GET", f"{base}/compressors/{org.compressor_ids[0]}/performance?range=24h")
    assert series.status_code == 200, series.text
    data = series.json()
    assert len(data["t"]) == 24 and data["assumptions"]["stages"] == 2
    ratio = perf.stage_compression_ratio(65.0, 1050.0, 2)  # the seeded hourly means
    ideal = perf.isentropic_discharge_temp_f(perf.DEFAULT_STAGE_INLET_TEMP_F, ratio)
    gas_hp = perf.isentropic_gas_hp(9.0, perf.DEFAULT_STAGE_INLET_TEMP_F, ratio, 2)
    assert data["stage_compression_ratio"][-1] == pytest.approx(ratio, abs=1e-4)
    assert data["ideal_discharge_temp_f"][-1] == pytest.approx(ideal, abs=1e-3)
    assert data["discharge_temp_excess_f"][-1] == pytest.approx(
        HEALTHY["discharge_temp_f"] - ideal, abs=1e-3
    )
    assert data["adiabatic_efficiency"][-1] == pytest.approx(gas_hp / (1200.0 * 0.95), abs=1e-4)

    fleet = browser.api("GET", f"{base}/performance").json()
    first = fleet["units"][0]
    assert first["compressor_id"] == failing.compressor_id
    assert first["excess_change_f"] > 40  # its discharge temperature climbed 100 °F over 48 h
    assert all(abs(u["excess_change_f"]) < 1e-6 for u in fleet["units"][1:])
    assert (first["baseline_hours"], first["recent_hours"]) == (24, 24)

    page = browser.client.get(f"/o/{org.org_id}/performance")
    assert page.status_code == 200 and failing.compressor_id in page.text
    missing = browser.api("GET", f"{base}/compressors/NOPE/performance")
    assert missing.status_code == 404


def test_rod_load_where_the_fleet_file_gives_the_cylinder() -> None:
    import numpy as np

    from hub.portal.fleet import performance
    from shared.fleet import DEFAULT_FLEET_PATH

    cylinder = performance.cylinder_of(DEFAULT_FLEET_PATH, "demo-org", "COMP-001")
    assert cylinder is not None and cylinder.bore_in == 5.5
    assert performance.cylinder_of(DEFAULT_FLEET_PATH, "other-org", "COMP-001") is None
    assert performance.cylinder_of(DEFAULT_FLEET_PATH, "demo-org", "COMP-004") is None
    # 2 stages 85.3 -> 885.3 psig: the last stage takes 285.3 psig up to 885.3 psig.
    means = {"suction_pressure_psi": np.array([85.3]), "discharge_pressure_psi": np.array([885.3])}
    load = performance.rod_load(means, 2, cylinder)
    head_end, crank_end = perf.piston_areas_in2(5.5, 2.0)
    assert load.compression_lbf[0] == pytest.approx(885.3 * head_end - 285.3 * crank_end, abs=0.01)
    assert load.tension_lbf[0] == pytest.approx(885.3 * crank_end - 285.3 * head_end, abs=0.01)
    assert load.rated_rod_load_lbf == 40000
