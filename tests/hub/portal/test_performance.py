"""Performance from serving data: a compressor's hourly series and the fleet comparison show
gold's stored figures (null figures as none), the last hour's minutes the shared formulas
over their means, and the fleet comparison puts the unit that drifted from its baseline first."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from html import unescape

import pytest
from fastapi import FastAPI

from hub.db.base import utc_now
from hub.db.session import session_scope
from hub.portal.tenancy import Role
from shared import performance as perf
from tests.hub.portal.conftest import PortalDb
from tests.hub.portal.factories import Browser, make_member, make_org
from tests.support.telemetry import (
    HEALTHY,
    HEALTHY_FIGURES,
    NO_FIGURES,
    hourly_row,
    minute_row,
    seed_failing_compressor,
)

pytestmark = pytest.mark.postgres

#: What the fleet page shows in place of a figure it has not got.
NONE = "\N{EN DASH}"


def _table_rows(html: str) -> list[str]:
    """The text of each body row of the fleet performance table, spaces collapsed."""
    body = html.split('id="fleet-performance"', 1)[1].split("<tbody>", 1)[1].split("</tbody>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)
    return [" ".join(unescape(re.sub(r"<[^>]+>", " ", row)).split()) for row in rows]


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
    for name, stored in HEALTHY_FIGURES.items():  # gold's figures, as serving stores them
        assert data[name] == [stored] * 24, name
    assert data["measured_discharge_temp_f"][-1] == HEALTHY["discharge_temp_f"]  # the means
    assert data["brake_hp"][-1] == HEALTHY["horsepower_consumption"]

    fleet = browser.api("GET", f"{base}/performance").json()
    first = fleet["units"][0]
    assert first["compressor_id"] == failing.compressor_id
    assert first["excess_change_f"] > 40  # its discharge temperature climbed 100 °F over 48 h
    assert all(abs(u["excess_change_f"]) < 1e-6 for u in fleet["units"][1:])
    assert (first["baseline_hours"], first["recent_hours"]) == (24, 24)

    page = browser.client.get(f"/o/{org.org_id}/performance")
    assert page.status_code == 200
    assert _table_rows(page.text)[0].startswith(f"1 {failing.compressor_id} ")
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


def test_the_last_hour_applies_the_formulas_to_minute_means(
    portal_app: FastAPI, portal_db: PortalDb
) -> None:
    """Minutes carry no stored figures: the 1 h range computes them from the minute means."""
    org = make_org(portal_db.owner, stations=1, compressors_per_station=1)
    station, unit = org.station_ids[0], org.compressor_ids[0]
    now = utc_now().replace(second=0, microsecond=0)
    with session_scope(portal_db.owner, org_id=org.org_id) as session:
        session.add_all(
            minute_row(org.org_id, station, unit, now - timedelta(minutes=m)) for m in range(5)
        )
    browser = Browser(portal_app).login(make_member(portal_db.owner, org.org_id).email)
    url = f"/api/v1/orgs/{org.org_id}/compressors/{unit}/performance?range=1h"
    data = browser.api("GET", url).json()

    assert len(data["t"]) == 5
    ratio = perf.stage_compression_ratio(65.0, 1050.0, 2)  # the seeded minute means
    ideal = perf.isentropic_discharge_temp_f(perf.DEFAULT_STAGE_INLET_TEMP_F, ratio)
    gas_hp = perf.isentropic_gas_hp(9.0, perf.DEFAULT_STAGE_INLET_TEMP_F, ratio, 2)
    assert data["stage_compression_ratio"][-1] == pytest.approx(ratio, abs=1e-4)
    assert data["ideal_discharge_temp_f"][-1] == pytest.approx(ideal, abs=1e-3)
    assert data["discharge_temp_excess_f"][-1] == pytest.approx(
        HEALTHY["discharge_temp_f"] - ideal, abs=1e-3
    )
    assert data["adiabatic_efficiency"][-1] == pytest.approx(gas_hp / (1200.0 * 0.95), abs=1e-4)


def test_the_fleet_comparison_shows_golds_figures_and_no_figure_where_gold_has_none(
    portal_app: FastAPI, portal_db: PortalDb
) -> None:
    org = make_org(portal_db.owner, stations=1, compressors_per_station=3)
    station = org.station_ids[0]
    worn, steady, unknown = org.compressor_ids
    end = utc_now().replace(minute=0, second=0, microsecond=0)

    def figures(unit: str, h: int) -> Mapping[str, float | None]:
        recent = h >= 24
        if unit == worn:  # 80 % -> 74 %, 20 °F -> 32 °F over ideal; one stray baseline hour
            efficiency = 0.20 if h == 3 else (0.74 if recent else 0.80)
            return {"adiabatic_efficiency": efficiency,
                    "discharge_temp_excess_f": 32.0 if recent else 20.0}  # fmt: skip
        if unit == steady:
            return {"adiabatic_efficiency": 0.82, "discharge_temp_excess_f": 18.0}
        return NO_FIGURES  # e.g. gold knows no stages for it

    with session_scope(portal_db.owner, org_id=org.org_id) as session:
        for unit in org.compressor_ids:
            for h in range(48):  # hours 0-23 are the baseline, 24-47 the recent day
                short = unit == steady and 40 <= h < 44  # ran 30 min: gold stores no figures
                session.add(
                    hourly_row(org.org_id, station, unit, end - timedelta(hours=47 - h),
                               figures=NO_FIGURES if short else figures(unit, h),
                               n_running_minutes=30 if short else 60)
                )  # fmt: skip
    browser = Browser(portal_app).login(make_member(portal_db.owner, org.org_id).email)
    base = f"/api/v1/orgs/{org.org_id}"

    units = {
        u["compressor_id"]: u for u in browser.api("GET", f"{base}/performance").json()["units"]
    }
    assert list(units) == [worn, steady, unknown]  # worst efficiency drop first; none: last
    assert (units[worn]["baseline_efficiency"], units[worn]["recent_efficiency"]) == (0.80, 0.74)
    assert units[worn]["efficiency_change_pts"] == -6.0 and units[worn]["excess_change_f"] == 12.0
    assert units[steady]["efficiency_change_pts"] == 0.0
    assert (units[steady]["baseline_hours"], units[steady]["recent_hours"]) == (24, 20)
    assert units[unknown]["baseline_efficiency"] is None
    assert units[unknown]["efficiency_change_pts"] is None
    assert (units[unknown]["baseline_hours"], units[unknown]["recent_hours"]) == (24, 24)

    page = browser.client.get(f"/o/{org.org_id}/performance")
    assert _table_rows(page.text) == [
        f"1 {worn} {station} 80.0 % → 74.0 % -6.0 20.0 → 32.0 +12.0 24 / 24",
        f"2 {steady} {station} 82.0 % → 82.0 % +0.0 18.0 → 18.0 +0.0 24 / 20",
        f"3 {unknown} {station} {NONE} → {NONE} {NONE} {NONE} → {NONE} {NONE} 24 / 24",
    ]

    series = browser.api("GET", f"{base}/compressors/{unknown}/performance?range=24h").json()
    assert series["adiabatic_efficiency"] == [None] * 24  # no figure, not one from the means
    assert series["brake_hp"] == [HEALTHY["horsepower_consumption"]] * 24
    series = browser.api("GET", f"{base}/compressors/{steady}/performance?range=24h").json()
    assert [e is None for e in series["adiabatic_efficiency"]] == [
        h in range(40, 44) for h in range(24, 48)
    ]


def test_the_fleet_comparison_before_any_running_hour(
    portal_app: FastAPI, portal_db: PortalDb
) -> None:
    org = make_org(portal_db.owner, stations=1, compressors_per_station=1)
    browser = Browser(portal_app).login(make_member(portal_db.owner, org.org_id).email)
    assert browser.api("GET", f"/api/v1/orgs/{org.org_id}/performance").json()["units"] == []
    page = browser.client.get(f"/o/{org.org_id}/performance")
    assert _table_rows(page.text) == ["No running hours recorded yet."]


def test_the_portal_reads_the_figures_gold_writes() -> None:
    """The figure names the portal reads are gold's hourly columns, and serving has each."""
    from hub.lakehouse.performance import PERFORMANCE_COLUMNS
    from hub.portal.fleet.telemetry import PERFORMANCE_FIGURES
    from hub.serving.models import HourlyAggregate

    assert PERFORMANCE_FIGURES == PERFORMANCE_COLUMNS
    assert all(name in HourlyAggregate.__table__.columns for name in PERFORMANCE_FIGURES)
