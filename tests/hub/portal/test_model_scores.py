"""Model outputs and hot-path values on the fleet, station and compressor pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from sqlalchemy import select

from hub.db.session import session_scope
from hub.ingest.hotpath import HotPath
from hub.ingest.models import CompressorLatest, StationLatest
from hub.scoring.champions import ModelState
from hub.scoring.models import ModelStatus
from hub.scoring.service import record_states, write_scores
from shared.batch import decode_batch, encode_batch
from tests.hub.portal.conftest import PortalDb
from tests.hub.portal.factories import Browser, make_member, make_org
from tests.support.factories import batch_meta, readings

HOUR = datetime(2026, 7, 9, 12, tzinfo=UTC)


def _score(org_id: str, station: str, compressor: str, kind: str, at: datetime, score, **extra):  # type: ignore[no-untyped-def]
    model = {"rul_hours": ("compressor-rul", "r1"), "anomaly": ("compressor-anomaly", "a1")}.get(
        kind, ("discharge-temp-drift", "d1")
    )
    return {
        "org_id": org_id, "station_id": station, "compressor_id": compressor, "scored_at": at,
        "model_id": model[0], "model_version": model[1], "score_kind": kind, "score": score,
        "horizon_s": None, "lower": None, "upper": None, **extra,
    }  # fmt: skip


def test_pages_show_scores_and_model_states(portal_db: PortalDb, portal_app: FastAPI) -> None:
    org = make_org(portal_db.owner)
    station, unit, healthy = org.station_ids[0], org.compressor_ids[0], org.compressor_ids[1]
    browser = Browser(portal_app).login(make_member(portal_db.owner, org.org_id).email)

    page = browser.client.get(f"/o/{org.org_id}/compressors/{unit}").text
    assert page.count("No model registered.") == 3
    assert "no model registered" in page  # the RUL figure
    fleet = browser.client.get(f"/o/{org.org_id}/fleet").text
    assert "No model registered: no remaining-useful-life or drift estimates." in fleet
    assert browser.client.get(f"/o/{org.org_id}/models").text.count("No model registered.") == 3

    rows = [
        _score(org.org_id, station, unit, "rul_hours", HOUR + timedelta(hours=h), 60.0 - h,
               lower=50.0 - h, upper=80.0 - h)
        for h in range(20)
    ]  # fmt: skip
    rows += [
        _score(org.org_id, station, unit, "anomaly", HOUR, 1.7),
        _score(org.org_id, station, unit, "drift_status", HOUR, 1.0),
        _score(org.org_id, station, unit, "drift_rate_f_per_day", HOUR, 4.2),
        _score(org.org_id, station, healthy, "rul_hours", HOUR, None),
    ]
    states = [
        ModelState("compressor-anomaly", "anomaly", "refused", "a2", "feature set version 2"),
        ModelState("compressor-rul", "rul", "active", "r1"),
        ModelState("discharge-temp-drift", "temp_forecast", "active", "d1"),
    ]
    with session_scope(portal_db.app, org_id=org.org_id) as session:  # the app's RLS-bound role
        write_scores(session=session, rows=rows)
        record_states(session=session, org_id=org.org_id, states=states)

    api = browser.api("GET", f"/api/v1/orgs/{org.org_id}/compressors/{unit}/predictions").json()
    assert api["rul"]["hours"] == 41.0 and api["rul"]["series"][0] == 60.0
    assert len(api["rul"]["t"]) == 20 and api["rul"]["lower"][-1] == 31.0
    assert api["drifting"] is True and api["drift_rate_f_per_day"] == 4.2
    assert api["versions"]["rul_hours"] == "compressor-rul@r1"
    assert api["models"]["anomaly"]["status"] == "refused"

    page = browser.client.get(f"/o/{org.org_id}/compressors/{unit}").text
    assert '<span class="n" id="rul">41 h</span>' in page
    assert "drifting +4.2 °F/day" in page
    assert "compressor-rul version r1" in page
    assert "refused</span> compressor-anomaly version a2: feature set version 2" in page
    other = browser.client.get(f"/o/{org.org_id}/compressors/{healthy}").text
    assert '<span class="n" id="rul">no degradation detected</span>' in other
    fleet = browser.client.get(f"/o/{org.org_id}/fleet").text
    watch = fleet[fleet.index('id="model-watch"') :]
    assert f">{unit}</a>" in watch and "RUL 41 h" in watch and "drifting" in watch
    assert f">{healthy}</a>" not in watch[: watch.index("</ul>")]
    station_page = browser.client.get(f"/o/{org.org_id}/stations/{station}").text
    assert "discharge-temp-drift version d1" in station_page


def _landed(org_id: str, station: str, compressors: list[str], start: datetime, **values):  # type: ignore[no-untyped-def]
    table = readings(
        len(compressors), station_id=station, compressors=len(compressors), start=start,
        compressor_id=compressors, **{k: [v] * len(compressors) for k, v in values.items()},
    )  # fmt: skip
    return decode_batch(encode_batch(table, batch_meta(table, org_id=org_id)))


def test_pages_show_the_hot_paths_newest_values_and_freshness(
    portal_db: PortalDb, portal_app: FastAPI
) -> None:
    org = make_org(portal_db.owner)
    (near, far), units = org.station_ids, org.compressor_ids
    hot = HotPath(portal_db.app)  # the application's (RLS-bound) role
    now = datetime.now(UTC)
    # Simulated time runs ahead of the wall clock: freshness is judged on the data's clock.
    ahead = now + timedelta(days=3)
    hot.apply(_landed(org.org_id, near, units[:2], ahead, discharge_temp_f=287.5), received_at=now)
    late = ahead - timedelta(hours=2)
    hot.apply(_landed(org.org_id, far, units[2:], late, discharge_temp_f=222.0), received_at=now)

    browser = Browser(portal_app).login(make_member(portal_db.owner, org.org_id).email)
    page = browser.client.get(f"/o/{org.org_id}/compressors/{units[0]}").text
    assert "Discharge temperature: 287.5 °F" in page  # the gauge, from the hot path
    assert "(newest data)" in page
    station = browser.client.get(f"/o/{org.org_id}/stations/{far}").text
    assert "2 h behind the newest data" in station and "222 °F" in station
    with session_scope(portal_db.app, org_id=org.org_id) as session:
        record_states(
            session=session, org_id=org.org_id,
            states=[ModelState("compressor-rul", "rul", "active", "r1")],
        )  # fmt: skip
    outsider = make_org(portal_db.owner)  # row-level security: another org sees none of it
    with session_scope(portal_db.app, org_id=outsider.org_id) as session:
        assert session.scalars(select(CompressorLatest)).all() == []
        assert session.scalars(select(StationLatest)).all() == []
        assert session.scalars(select(ModelStatus)).all() == []
    fleet = browser.client.get(f"/o/{org.org_id}/fleet").text
    assert fleet.count("· newest data") == 1 and fleet.count("· 2 h behind the newest data") == 1
